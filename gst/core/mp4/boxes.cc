#include "mp4/boxes.h"

#include <algorithm>

namespace ams::mp4 {
namespace {

constexpr uint32_t kFixed16_16One = 0x00010000;
constexpr std::array<uint32_t, 9> kUnityMatrix = {0x00010000, 0, 0, 0,         0x00010000,
                                                  0,          0, 0, 0x40000000};

bool rw_matrix(BoxBuffer& b) {
  for (uint32_t m : kUnityMatrix) {
    uint32_t v = m;
    if (!b.rw(v)) return false;
  }
  return true;
}

// Entry arrays share a shape: a 32-bit count, then `count` fixed-size entries. The count is
// checked against the bytes left before anything is allocated.
template <typename T, typename F>
bool rw_table(BoxBuffer& b, std::vector<T>& entries, uint32_t entry_size, F&& rw_entry) {
  uint32_t count = static_cast<uint32_t>(entries.size());
  if (!b.rw(count) || !b.fits(count, entry_size)) return false;
  if (b.reading()) entries.resize(count);
  for (T& e : entries) {
    if (!rw_entry(e)) return false;
  }
  return true;
}

}  // namespace

bool Ftyp::read_write(BoxBuffer& b) {
  if (!b.rw(major_brand) || !b.rw(minor_version)) return false;
  if (b.reading()) {
    compatible_brands.resize(b.remaining() / 4);
  }
  for (FourCC& brand : compatible_brands) {
    if (!b.rw(brand)) return false;
  }
  return true;
}

bool Mvhd::read_write(BoxBuffer& b) {
  if (!b.rw_full_header(version, flags) || version > 1) return false;
  uint32_t rate = kFixed16_16One;
  uint16_t volume = 0x0100;
  return b.rw_versioned(creation_time, version) && b.rw_versioned(modification_time, version) &&
         b.rw(timescale) && b.rw_versioned(duration, version) && b.rw(rate) && b.rw(volume) &&
         b.ignore(10) && rw_matrix(b) && b.ignore(24) && b.rw(next_track_id);
}

bool Tkhd::read_write(BoxBuffer& b) {
  if (!b.rw_full_header(version, flags) || version > 1) return false;
  uint16_t reserved16 = 0;
  return b.rw_versioned(creation_time, version) && b.rw_versioned(modification_time, version) &&
         b.rw(track_id) && b.ignore(4) && b.rw_versioned(duration, version) && b.ignore(8) &&
         b.rw(layer) && b.rw(alternate_group) && b.rw(volume) && b.rw(reserved16) && rw_matrix(b) &&
         b.rw(width) && b.rw(height);
}

bool Mdhd::read_write(BoxBuffer& b) {
  if (!b.rw_full_header(version, flags) || version > 1) return false;
  uint16_t packed = 0;
  if (!b.reading()) {
    std::string l = language.size() == 3 ? language : "und";
    packed = static_cast<uint16_t>(((l[0] - 0x60) & 31) << 10 | ((l[1] - 0x60) & 31) << 5 |
                                   ((l[2] - 0x60) & 31));
  }
  uint16_t pre_defined = 0;
  if (!b.rw_versioned(creation_time, version) || !b.rw_versioned(modification_time, version) ||
      !b.rw(timescale) || !b.rw_versioned(duration, version) || !b.rw(packed) ||
      !b.rw(pre_defined)) {
    return false;
  }
  if (b.reading()) {
    language.clear();
    for (int shift : {10, 5, 0}) {
      char c = static_cast<char>(((packed >> shift) & 31) + 0x60);
      language.push_back(c >= 'a' && c <= 'z' ? c : '?');
    }
    if (language.find('?') != std::string::npos) language = "und";
  }
  return true;
}

bool Hdlr::read_write(BoxBuffer& b) {
  uint32_t pre_defined = 0;
  if (!b.rw_full_header(version, flags) || !b.rw(pre_defined) || !b.rw(handler_type) ||
      !b.ignore(12)) {
    return false;
  }
  Bytes raw;
  if (!b.reading()) {
    raw.assign(name.begin(), name.end());
    raw.push_back(0);
  }
  if (!b.rw_rest(raw)) return false;
  if (b.reading()) {
    auto nul = std::find(raw.begin(), raw.end(), 0);
    name.assign(raw.begin(), nul);
  }
  return true;
}

bool Vmhd::read_write(BoxBuffer& b) {
  return b.rw_full_header(version, flags) && b.ignore(8);
}

bool Smhd::read_write(BoxBuffer& b) {
  return b.rw_full_header(version, flags) && b.ignore(4);
}

bool Sthd::read_write(BoxBuffer& b) {
  return b.rw_full_header(version, flags);
}

bool Dref::read_write(BoxBuffer& b) {
  uint32_t count = 1;
  if (!b.rw_full_header(version, flags) || !b.rw(count)) return false;
  if (b.reading()) return true;  // the entries tell nothing we use: media is always in-file
  ByteWriter& w = b.writer();
  w.u32(12);
  w.fourcc("url ");
  w.u32(1);  // version 0, flags 1: self-contained
  return true;
}

bool Dinf::read_write(BoxBuffer& b) {
  return b.rw_child(dref);
}

bool SampleEntry::is_visual() const {
  switch (format) {
    case fourcc("avc1"):
    case fourcc("avc3"):
    case fourcc("hvc1"):
    case fourcc("hev1"):
    case fourcc("encv"):
      return true;
    default:
      return false;
  }
}

bool SampleEntry::is_audio() const {
  switch (format) {
    case fourcc("mp4a"):
    case fourcc("ac-3"):
    case fourcc("ec-3"):
    case fourcc("enca"):
      return true;
    default:
      return false;
  }
}

const SampleEntry::Child* SampleEntry::child(FourCC type) const {
  for (const Child& c : children) {
    if (c.type == type) return &c;
  }
  return nullptr;
}

bool SampleEntry::read_write(BoxBuffer& b) {
  if (!is_visual() && !is_audio()) return b.rw_rest(opaque);
  if (!b.ignore(6) || !b.rw(data_reference_index)) return false;
  if (is_visual()) {
    uint32_t resolution = 0x00480000;  // 72 dpi
    uint16_t frame_count = 1;
    uint16_t depth = 0x0018;
    int16_t pre_defined = -1;
    if (!b.ignore(16) || !b.rw(width) || !b.rw(height) || !b.rw(resolution) || !b.rw(resolution) ||
        !b.ignore(4) || !b.rw(frame_count)) {
      return false;
    }
    Bytes name(32, 0);
    if (!b.reading()) {
      size_t n = std::min<size_t>(compressor_name.size(), 31);
      name[0] = static_cast<uint8_t>(n);
      std::copy_n(compressor_name.begin(), n, name.begin() + 1);
    }
    if (!b.rw_bytes(name, 32) || !b.rw(depth) || !b.rw(pre_defined)) return false;
    if (b.reading()) {
      size_t n = std::min<size_t>(name[0], 31);
      compressor_name.assign(name.begin() + 1, name.begin() + 1 + n);
    }
  } else {
    uint16_t sound_version = 0;
    uint32_t rate_fixed = sample_rate << 16;
    if (!b.rw(sound_version) || !b.ignore(6) || !b.rw(channel_count) || !b.rw(sample_size) ||
        !b.ignore(4) || !b.rw(rate_fixed)) {
      return false;
    }
    // QuickTime sound descriptions carry more fields in versions 1 and 2.
    if (b.reading() && sound_version == 1 && !b.ignore(16)) return false;
    if (b.reading() && sound_version == 2 && !b.ignore(36)) return false;
    if (b.reading()) sample_rate = rate_fixed >> 16;
  }
  if (b.reading()) {
    auto kids = split_children(b.reader().rest());
    if (!kids) return false;
    children.clear();
    for (const RawBox& k : *kids) {
      // A uuid child keeps its extended type in front of its payload, so it is written back.
      Bytes payload(k.usertype.begin(), k.usertype.end());
      payload.insert(payload.end(), k.payload.begin(), k.payload.end());
      children.push_back({k.type, std::move(payload)});
    }
    return b.reader().skip(b.remaining());
  }
  ByteWriter& w = b.writer();
  for (const Child& c : children) {
    w.u32(static_cast<uint32_t>(8 + c.payload.size()));
    w.u32(c.type);
    w.bytes(c.payload);
  }
  return true;
}

bool Stsd::read_write(BoxBuffer& b) {
  uint32_t count = static_cast<uint32_t>(entries.size());
  if (!b.rw_full_header(version, flags) || !b.rw(count) || !b.fits(count, 8)) return false;
  if (!b.reading()) {
    for (const SampleEntry& e : entries) {
      ByteWriter& w = b.writer();
      size_t start = w.size();
      w.u32(0);
      w.u32(e.format);
      if (e.format == fourcc("uuid")) {
        Bytes usertype = e.usertype;
        usertype.resize(16);
        w.bytes(usertype);
      }
      BoxBuffer child(w);
      (void)const_cast<SampleEntry&>(e).read_write(child);
      w.patch_u32(start, static_cast<uint32_t>(w.size() - start));
    }
    return true;
  }
  auto kids = split_children(b.reader().rest());
  if (!kids || kids->size() < count) return false;
  entries.resize(count);
  for (uint32_t i = 0; i < count; ++i) {
    entries[i].format = (*kids)[i].type;
    entries[i].usertype.assign((*kids)[i].usertype.begin(), (*kids)[i].usertype.end());
    ByteReader r((*kids)[i].payload);
    BoxBuffer child(r);
    if (!entries[i].read_write(child)) return false;
  }
  return true;
}

bool Stts::read_write(BoxBuffer& b) {
  return b.rw_full_header(version, flags) &&
         rw_table(b, entries, 8, [&](Entry& e) { return b.rw(e.count) && b.rw(e.delta); });
}

bool Ctts::read_write(BoxBuffer& b) {
  return b.rw_full_header(version, flags) &&
         rw_table(b, entries, 8, [&](Entry& e) { return b.rw(e.count) && b.rw(e.offset); });
}

bool Stss::read_write(BoxBuffer& b) {
  return b.rw_full_header(version, flags) &&
         rw_table(b, sample_numbers, 4, [&](uint32_t& n) { return b.rw(n); });
}

bool Stsz::read_write(BoxBuffer& b) {
  if (!b.rw_full_header(version, flags) || !b.rw(sample_size)) return false;
  if (!b.reading() && sample_size == 0) sample_count = static_cast<uint32_t>(sizes.size());
  if (!b.rw(sample_count)) return false;
  if (sample_size != 0) return true;
  if (!b.fits(sample_count, 4)) return false;
  if (b.reading()) sizes.resize(sample_count);
  for (uint32_t& s : sizes) {
    if (!b.rw(s)) return false;
  }
  return true;
}

bool Stz2::read_write(BoxBuffer& b) {
  uint32_t reserved = 0;
  uint32_t count = static_cast<uint32_t>(sizes.size());
  if (!b.rw_full_header(version, flags) || !b.rw_u24(reserved) || !b.rw(field_size) ||
      !b.rw(count)) {
    return false;
  }
  if (field_size != 4 && field_size != 8 && field_size != 16) return false;
  if (!b.reading()) {
    ByteWriter& w = b.writer();
    for (size_t i = 0; i < sizes.size(); ++i) {
      if (field_size == 16) w.u16(static_cast<uint16_t>(sizes[i]));
      if (field_size == 8) w.u8(static_cast<uint8_t>(sizes[i]));
      if (field_size == 4 && i % 2 == 1)
        w.u8(static_cast<uint8_t>(sizes[i - 1] << 4 | (sizes[i] & 15)));
    }
    if (field_size == 4 && sizes.size() % 2 == 1) w.u8(static_cast<uint8_t>(sizes.back() << 4));
    return true;
  }
  uint64_t bytes_needed = (static_cast<uint64_t>(count) * field_size + 7) / 8;
  if (bytes_needed > b.remaining()) return false;
  sizes.resize(count);
  ByteReader& r = b.reader();
  for (uint32_t i = 0; i < count; ++i) {
    if (field_size == 16) {
      uint16_t v = 0;
      if (!r.read_u16(v)) return false;
      sizes[i] = v;
    } else if (field_size == 8) {
      uint8_t v = 0;
      if (!r.read_u8(v)) return false;
      sizes[i] = v;
    } else {
      uint8_t v = 0;
      if (i % 2 == 0 && !r.read_u8(v)) return false;
      if (i % 2 == 0) {
        sizes[i] = v >> 4;
        if (i + 1 < count) sizes[i + 1] = v & 15;
      }
    }
  }
  return true;
}

bool Stsc::read_write(BoxBuffer& b) {
  return b.rw_full_header(version, flags) && rw_table(b, entries, 12, [&](Entry& e) {
           return b.rw(e.first_chunk) && b.rw(e.samples_per_chunk) &&
                  b.rw(e.sample_description_index);
         });
}

bool Stco::read_write(BoxBuffer& b) {
  return b.rw_full_header(version, flags) && rw_table(b, offsets, 4, [&](uint64_t& o) {
           uint32_t v = static_cast<uint32_t>(o);
           if (!b.rw(v)) return false;
           o = v;
           return true;
         });
}

bool Co64::read_write(BoxBuffer& b) {
  return b.rw_full_header(version, flags) &&
         rw_table(b, offsets, 8, [&](uint64_t& o) { return b.rw(o); });
}

bool Stbl::read_write(BoxBuffer& b) {
  if (!b.rw_child(stsd) || !b.rw_child(stts) || !b.rw_optional_child(ctts) ||
      !b.rw_optional_child(stss) || !b.rw_child(stsc) || !b.rw_optional_child(stsz) ||
      !b.rw_optional_child(stz2) || !b.rw_optional_child(stco) || !b.rw_optional_child(co64)) {
    return false;
  }
  return !b.reading() || ((stsz || stz2) && (stco || co64));
}

bool Minf::read_write(BoxBuffer& b) {
  return b.rw_optional_child(vmhd) && b.rw_optional_child(smhd) && b.rw_optional_child(sthd) &&
         b.rw_optional_child(dinf) && b.rw_child(stbl);
}

bool Mdia::read_write(BoxBuffer& b) {
  return b.rw_child(mdhd) && b.rw_child(hdlr) && b.rw_child(minf);
}

bool Elst::read_write(BoxBuffer& b) {
  if (!b.rw_full_header(version, flags) || version > 1) return false;
  return rw_table(b, entries, version == 1 ? 20 : 12, [&](Entry& e) {
    return b.rw_versioned(e.segment_duration, version) && b.rw_versioned(e.media_time, version) &&
           b.rw(e.rate_integer) && b.rw(e.rate_fraction);
  });
}

bool Edts::read_write(BoxBuffer& b) {
  return b.rw_child(elst);
}

bool Trak::read_write(BoxBuffer& b) {
  return b.rw_child(tkhd) && b.rw_optional_child(edts) && b.rw_child(mdia);
}

bool Mehd::read_write(BoxBuffer& b) {
  return b.rw_full_header(version, flags) && version <= 1 &&
         b.rw_versioned(fragment_duration, version);
}

bool Trex::read_write(BoxBuffer& b) {
  return b.rw_full_header(version, flags) && b.rw(track_id) &&
         b.rw(default_sample_description_index) && b.rw(default_sample_duration) &&
         b.rw(default_sample_size) && b.rw(default_sample_flags);
}

bool Mvex::read_write(BoxBuffer& b) {
  return b.rw_optional_child(mehd) && b.rw_children(trex);
}

bool Moov::read_write(BoxBuffer& b) {
  if (!b.rw_child(mvhd) || !b.rw_children(traks) || !b.rw_optional_child(mvex)) return false;
  return b.reading() || b.rw_children(pssh);
}

bool Pssh::read_write(BoxBuffer& b) {
  if (!b.rw_full_header(version, flags)) return false;
  for (uint8_t& v : system_id) {
    if (!b.rw(v)) return false;
  }
  if (version > 0) {
    uint32_t count = static_cast<uint32_t>(key_ids.size());
    if (!b.rw(count) || !b.fits(count, 16)) return false;
    if (b.reading()) key_ids.resize(count);
    for (auto& id : key_ids) {
      for (uint8_t& v : id) {
        if (!b.rw(v)) return false;
      }
    }
  }
  uint32_t size = static_cast<uint32_t>(data.size());
  if (!b.rw(size) || !b.fits(size, 1)) return false;
  return b.rw_bytes(data, size);
}

bool Mfhd::read_write(BoxBuffer& b) {
  return b.rw_full_header(version, flags) && b.rw(sequence_number);
}

bool Tfhd::read_write(BoxBuffer& b) {
  if (!b.rw_full_header(version, flags) || !b.rw(track_id)) return false;
  if ((flags & kBaseDataOffset) && !b.rw(base_data_offset)) return false;
  if ((flags & kSampleDescriptionIndex) && !b.rw(sample_description_index)) return false;
  if ((flags & kDefaultSampleDuration) && !b.rw(default_sample_duration)) return false;
  if ((flags & kDefaultSampleSize) && !b.rw(default_sample_size)) return false;
  if ((flags & kDefaultSampleFlags) && !b.rw(default_sample_flags)) return false;
  return true;
}

bool Tfdt::read_write(BoxBuffer& b) {
  return b.rw_full_header(version, flags) && version <= 1 &&
         b.rw_versioned(base_media_decode_time, version);
}

bool Trun::read_write(BoxBuffer& b) {
  uint32_t count = static_cast<uint32_t>(entries.size());
  if (!b.rw_full_header(version, flags) || !b.rw(count)) return false;
  if ((flags & kDataOffset) && !b.rw(data_offset)) return false;
  if ((flags & kFirstSampleFlags) && !b.rw(first_sample_flags)) return false;
  uint32_t per_sample = 4 * (!!(flags & kSampleDuration) + !!(flags & kSampleSize) +
                             !!(flags & kSampleFlags) + !!(flags & kSampleCompositionOffset));
  // A trun whose samples carry no fields costs no bytes per sample: bound the count anyway.
  if (!b.fits(count, per_sample) || (b.reading() && per_sample == 0 && count > (1u << 20))) {
    return false;
  }
  if (b.reading()) entries.resize(count);
  for (Entry& e : entries) {
    if ((flags & kSampleDuration) && !b.rw(e.duration)) return false;
    if ((flags & kSampleSize) && !b.rw(e.size)) return false;
    if ((flags & kSampleFlags) && !b.rw(e.flags)) return false;
    if ((flags & kSampleCompositionOffset) && !b.rw(e.composition_offset)) return false;
  }
  return true;
}

bool Traf::read_write(BoxBuffer& b) {
  return b.rw_child(tfhd) && b.rw_optional_child(tfdt) && b.rw_children(truns);
}

bool Moof::read_write(BoxBuffer& b) {
  return b.rw_child(mfhd) && b.rw_children(trafs);
}

bool Sidx::read_write(BoxBuffer& b) {
  uint16_t reserved = 0;
  uint16_t count = static_cast<uint16_t>(references.size());
  if (!b.rw_full_header(version, flags) || version > 1 || !b.rw(reference_id) || !b.rw(timescale) ||
      !b.rw_versioned(earliest_presentation_time, version) ||
      !b.rw_versioned(first_offset, version) || !b.rw(reserved) || !b.rw(count) ||
      !b.fits(count, 12)) {
    return false;
  }
  if (b.reading()) references.resize(count);
  for (Reference& ref : references) {
    uint32_t word1 = (ref.reference_type ? 0x80000000u : 0) | (ref.referenced_size & 0x7fffffff);
    uint32_t word3 = (ref.starts_with_sap ? 0x80000000u : 0) |
                     (static_cast<uint32_t>(ref.sap_type & 7) << 28) |
                     (ref.sap_delta_time & 0x0fffffff);
    if (!b.rw(word1) || !b.rw(ref.subsegment_duration) || !b.rw(word3)) return false;
    ref.reference_type = word1 >> 31;
    ref.referenced_size = word1 & 0x7fffffff;
    ref.starts_with_sap = word3 >> 31;
    ref.sap_type = (word3 >> 28) & 7;
    ref.sap_delta_time = word3 & 0x0fffffff;
  }
  return true;
}

namespace {

// A number stored in 1 to 4 bytes, as tfra's traf/trun/sample numbers are.
bool rw_sized(BoxBuffer& b, uint32_t& v, uint8_t length_minus_one) {
  if (!b.reading()) {
    for (int i = length_minus_one; i >= 0; --i) b.writer().u8(static_cast<uint8_t>(v >> (8 * i)));
    return true;
  }
  v = 0;
  for (int i = 0; i <= length_minus_one; ++i) {
    uint8_t byte = 0;
    if (!b.reader().read_u8(byte)) return false;
    v = (v << 8) | byte;
  }
  return true;
}

}  // namespace

bool Tfra::read_write(BoxBuffer& b) {
  uint32_t sizes =
      static_cast<uint32_t>((length_size_of_traf_num & 3) << 4 |
                            (length_size_of_trun_num & 3) << 2 | (length_size_of_sample_num & 3));
  if (!b.rw_full_header(version, flags) || version > 1 || !b.rw(track_id) || !b.rw(sizes)) {
    return false;
  }
  length_size_of_traf_num = (sizes >> 4) & 3;
  length_size_of_trun_num = (sizes >> 2) & 3;
  length_size_of_sample_num = sizes & 3;
  const uint32_t entry_size = (version == 1 ? 16 : 8) + length_size_of_traf_num +
                              length_size_of_trun_num + length_size_of_sample_num + 3;
  return rw_table(b, entries, entry_size, [&](Entry& e) {
    return b.rw_versioned(e.time, version) && b.rw_versioned(e.moof_offset, version) &&
           rw_sized(b, e.traf_number, length_size_of_traf_num) &&
           rw_sized(b, e.trun_number, length_size_of_trun_num) &&
           rw_sized(b, e.sample_number, length_size_of_sample_num);
  });
}

bool Mfro::read_write(BoxBuffer& b) {
  return b.rw_full_header(version, flags) && b.rw(size);
}

bool Mfra::read_write(BoxBuffer& b) {
  return b.rw_children(tfra) && b.rw_optional_child(mfro);
}

bool Tfxd::read_write(BoxBuffer& b) {
  // Reading: the box header (with the user type) was consumed by whoever found this box.
  if (!b.reading()) b.writer().bytes(kUserType);
  return b.rw_full_header(version, flags) && version <= 1 && b.rw_versioned(time, version) &&
         b.rw_versioned(duration, version);
}

}  // namespace ams::mp4
