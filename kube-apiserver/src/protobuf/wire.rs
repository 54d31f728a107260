//! Protobuf wire format: a bounds-checked reader and a small writer.

use super::ProtoError;

/// One decoded field value, borrowed from the input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum WireValue<'a> {
    Varint(u64),
    Fixed64(u64),
    Bytes(&'a [u8]),
    Fixed32(u32),
}

impl WireValue<'_> {
    /// Protobuf wire type number, for error messages.
    pub fn wire_type(&self) -> u8 {
        match self {
            WireValue::Varint(_) => 0,
            WireValue::Fixed64(_) => 1,
            WireValue::Bytes(_) => 2,
            WireValue::Fixed32(_) => 5,
        }
    }
}

/// Reads a varint at `*pos`, advancing it.
pub fn read_varint(buf: &[u8], pos: &mut usize) -> Result<u64, ProtoError> {
    let mut value: u64 = 0;
    for shift in (0..64).step_by(7) {
        let byte = *buf.get(*pos).ok_or(ProtoError::Truncated)?;
        *pos += 1;
        if shift == 63 && byte > 1 {
            return Err(ProtoError::VarintOverflow);
        }
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(ProtoError::VarintOverflow)
}

fn read_fixed<const N: usize>(buf: &[u8], pos: &mut usize) -> Result<[u8; N], ProtoError> {
    let end = pos.checked_add(N).ok_or(ProtoError::Truncated)?;
    let bytes = buf.get(*pos..end).ok_or(ProtoError::Truncated)?;
    *pos = end;
    let mut out = [0u8; N];
    out.copy_from_slice(bytes);
    Ok(out)
}

fn read_len_delimited<'a>(buf: &'a [u8], pos: &mut usize) -> Result<&'a [u8], ProtoError> {
    let len = usize::try_from(read_varint(buf, pos)?).map_err(|_| ProtoError::Truncated)?;
    let end = pos.checked_add(len).ok_or(ProtoError::Truncated)?;
    let bytes = buf.get(*pos..end).ok_or(ProtoError::Truncated)?;
    *pos = end;
    Ok(bytes)
}

/// Reads one `(field number, value)` pair at `*pos`.
pub fn read_field<'a>(buf: &'a [u8], pos: &mut usize) -> Result<(u32, WireValue<'a>), ProtoError> {
    let key = read_varint(buf, pos)?;
    let tag = u32::try_from(key >> 3).map_err(|_| ProtoError::InvalidTag(key >> 3))?;
    if tag == 0 {
        return Err(ProtoError::InvalidTag(0));
    }
    let value = match key & 7 {
        0 => WireValue::Varint(read_varint(buf, pos)?),
        1 => WireValue::Fixed64(u64::from_le_bytes(read_fixed::<8>(buf, pos)?)),
        2 => WireValue::Bytes(read_len_delimited(buf, pos)?),
        5 => WireValue::Fixed32(u32::from_le_bytes(read_fixed::<4>(buf, pos)?)),
        other => return Err(ProtoError::UnsupportedWireType(other as u8)),
    };
    Ok((tag, value))
}

/// Splits a whole message into its fields, in wire order.
pub fn read_all(buf: &[u8]) -> Result<Vec<(u32, WireValue<'_>)>, ProtoError> {
    let mut pos = 0;
    let mut fields = Vec::new();
    while pos < buf.len() {
        fields.push(read_field(buf, &mut pos)?);
    }
    Ok(fields)
}

/// Unpacks a packed run of varints.
pub fn read_packed_varints(buf: &[u8]) -> Result<Vec<u64>, ProtoError> {
    let mut pos = 0;
    let mut out = Vec::new();
    while pos < buf.len() {
        out.push(read_varint(buf, &mut pos)?);
    }
    Ok(out)
}

/// Appends a varint.
pub fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn put_key(out: &mut Vec<u8>, tag: u32, wire_type: u8) {
    put_varint(out, (u64::from(tag) << 3) | u64::from(wire_type));
}

/// Appends a varint field (int32 values are sign-extended, as protobuf requires).
pub fn put_varint_field(out: &mut Vec<u8>, tag: u32, value: u64) {
    put_key(out, tag, 0);
    put_varint(out, value);
}

/// Appends a fixed64 field (double).
pub fn put_fixed64_field(out: &mut Vec<u8>, tag: u32, value: u64) {
    put_key(out, tag, 1);
    out.extend_from_slice(&value.to_le_bytes());
}

/// Appends a length-delimited field (string, bytes, message).
pub fn put_bytes_field(out: &mut Vec<u8>, tag: u32, bytes: &[u8]) {
    put_key(out, tag, 2);
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}
