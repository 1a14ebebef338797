//! memcached's binary protocol (memcached 1.6 `proto_bin.c`, `protocol_binary.h`). Pure.
//!
//! SKELETON: the parser is being written; only the types the connection and the forwarding
//! path rely on are fixed here.

/// A request packet's magic byte; a connection whose first byte is this speaks binary.
pub const REQ_MAGIC: u8 = 0x80;
/// A response packet's magic byte.
pub const RES_MAGIC: u8 = 0x81;
/// The fixed header of every packet.
pub const HEADER_LEN: usize = 24;

/// A parsed binary request: header fields and the body's parts, borrowed from the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BinRequest<'a> {
    /// The whole packet (header and body). Forwarding sends these bytes and the owner
    /// parses them again with [`reparse`].
    pub raw: &'a [u8],
    pub opcode: u8,
    pub opaque: u32,
    pub cas: u64,
    pub extras: &'a [u8],
    pub key: &'a [u8],
    pub value: &'a [u8],
}

/// Parses again a packet that the connection accepted (a forwarded one, on its owner).
pub fn reparse(raw: &[u8]) -> BinRequest<'_> {
    let klen = u16::from_be_bytes([raw[2], raw[3]]) as usize;
    let elen = raw[4] as usize;
    let body = &raw[HEADER_LEN..];
    BinRequest {
        raw,
        opcode: raw[1],
        opaque: u32::from_be_bytes(raw[12..16].try_into().unwrap()),
        cas: u64::from_be_bytes(raw[16..24].try_into().unwrap()),
        extras: &body[..elen],
        key: &body[elen..elen + klen],
        value: &body[elen + klen..],
    }
}

/// The buffered length the connection must reach before the packet at the start of `buf`
/// can be parsed, when the header says so (`None`: the header is incomplete).
pub fn need(buf: &[u8], _limits: &super::text::Limits) -> Option<usize> {
    (buf.len() >= HEADER_LEN)
        .then(|| HEADER_LEN + u32::from_be_bytes(buf[8..12].try_into().unwrap()) as usize)
}
