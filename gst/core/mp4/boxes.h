// The boxes gst-ams reads and writes. Each is a plain struct with one read_write routine (reading
// and writing share it, see box.h). Containers hold their children as members.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "mp4/box.h"

namespace ams::mp4 {

struct Ftyp {
  static constexpr FourCC kType = fourcc("ftyp");
  FourCC major_brand = 0;
  uint32_t minor_version = 0;
  std::vector<FourCC> compatible_brands;
  bool read_write(BoxBuffer& b);
};

// The segment type box: an ftyp under another name.
struct Styp : Ftyp {
  static constexpr FourCC kType = fourcc("styp");
};

struct Mvhd {
  static constexpr FourCC kType = fourcc("mvhd");
  uint8_t version = 0;
  uint32_t flags = 0;
  uint64_t creation_time = 0;
  uint64_t modification_time = 0;
  uint32_t timescale = 1000;
  uint64_t duration = 0;
  uint32_t next_track_id = 2;
  bool read_write(BoxBuffer& b);
};

struct Tkhd {
  static constexpr FourCC kType = fourcc("tkhd");
  uint8_t version = 0;
  uint32_t flags = 3;  // enabled | in movie
  uint64_t creation_time = 0;
  uint64_t modification_time = 0;
  uint32_t track_id = 1;
  uint64_t duration = 0;
  int16_t layer = 0;
  int16_t alternate_group = 0;
  int16_t volume = 0;   // 8.8, 0x0100 for audio
  uint32_t width = 0;   // 16.16
  uint32_t height = 0;  // 16.16
  bool read_write(BoxBuffer& b);
};

struct Mdhd {
  static constexpr FourCC kType = fourcc("mdhd");
  uint8_t version = 0;
  uint32_t flags = 0;
  uint64_t creation_time = 0;
  uint64_t modification_time = 0;
  uint32_t timescale = 0;
  uint64_t duration = 0;
  std::string language = "und";  // ISO 639-2/T, three letters
  bool read_write(BoxBuffer& b);
};

struct Hdlr {
  static constexpr FourCC kType = fourcc("hdlr");
  uint8_t version = 0;
  uint32_t flags = 0;
  FourCC handler_type = 0;  // vide, soun, text, subt, sbtl
  std::string name;
  bool read_write(BoxBuffer& b);
};

struct Vmhd {
  static constexpr FourCC kType = fourcc("vmhd");
  uint8_t version = 0;
  uint32_t flags = 1;
  bool read_write(BoxBuffer& b);
};

struct Smhd {
  static constexpr FourCC kType = fourcc("smhd");
  uint8_t version = 0;
  uint32_t flags = 0;
  bool read_write(BoxBuffer& b);
};

// The subtitle media header (ISO/IEC 14496-12 12.6.2): a full box with no fields, for 'subt'
// tracks.
struct Sthd {
  static constexpr FourCC kType = fourcc("sthd");
  uint8_t version = 0;
  uint32_t flags = 0;
  bool read_write(BoxBuffer& b);
};

// A data reference that says "the media is in this file".
struct Dref {
  static constexpr FourCC kType = fourcc("dref");
  uint8_t version = 0;
  uint32_t flags = 0;
  bool read_write(BoxBuffer& b);
};

struct Dinf {
  static constexpr FourCC kType = fourcc("dinf");
  Dref dref;
  bool read_write(BoxBuffer& b);
};

// One sample description. The codec configuration box (avcC, hvcC, esds, dac3, dec3) and any other
// child boxes are kept as raw payloads, parsed by gst/core/codec.
struct SampleEntry {
  FourCC format = 0;
  Bytes usertype;  // an entry of format uuid: its 16-byte extended type, written back as it came
  uint16_t data_reference_index = 1;
  // Visual
  uint16_t width = 0;
  uint16_t height = 0;
  std::string compressor_name;
  // Audio
  uint16_t channel_count = 2;
  uint16_t sample_size = 16;
  uint32_t sample_rate = 0;  // Hz (the integer part of the 16.16 field)
  struct Child {
    FourCC type = 0;
    Bytes payload;
  };
  std::vector<Child> children;
  Bytes opaque;  // the whole payload of an entry of a kind we do not know

  bool is_visual() const;
  bool is_audio() const;
  const Child* child(FourCC type) const;
  bool read_write(BoxBuffer& b);
};

struct Stsd {
  static constexpr FourCC kType = fourcc("stsd");
  uint8_t version = 0;
  uint32_t flags = 0;
  std::vector<SampleEntry> entries;
  bool read_write(BoxBuffer& b);
};

struct Stts {
  static constexpr FourCC kType = fourcc("stts");
  struct Entry {
    uint32_t count = 0;
    uint32_t delta = 0;
  };
  uint8_t version = 0;
  uint32_t flags = 0;
  std::vector<Entry> entries;
  bool read_write(BoxBuffer& b);
};

struct Ctts {
  static constexpr FourCC kType = fourcc("ctts");
  struct Entry {
    uint32_t count = 0;
    int32_t offset = 0;  // v0 stores it unsigned; values past INT32_MAX are not meaningful
  };
  uint8_t version = 0;
  uint32_t flags = 0;
  std::vector<Entry> entries;
  bool read_write(BoxBuffer& b);
};

struct Stss {
  static constexpr FourCC kType = fourcc("stss");
  uint8_t version = 0;
  uint32_t flags = 0;
  std::vector<uint32_t> sample_numbers;  // 1-based
  bool read_write(BoxBuffer& b);
};

struct Stsz {
  static constexpr FourCC kType = fourcc("stsz");
  uint8_t version = 0;
  uint32_t flags = 0;
  uint32_t sample_size = 0;  // non-zero: every sample has this size
  uint32_t sample_count = 0;
  std::vector<uint32_t> sizes;  // when sample_size == 0
  bool read_write(BoxBuffer& b);
};

// Compact sample sizes (4, 8 or 16 bits each). Read only: we always write stsz.
struct Stz2 {
  static constexpr FourCC kType = fourcc("stz2");
  uint8_t version = 0;
  uint32_t flags = 0;
  uint8_t field_size = 16;
  std::vector<uint32_t> sizes;
  bool read_write(BoxBuffer& b);
};

struct Stsc {
  static constexpr FourCC kType = fourcc("stsc");
  struct Entry {
    uint32_t first_chunk = 1;
    uint32_t samples_per_chunk = 0;
    uint32_t sample_description_index = 1;
  };
  uint8_t version = 0;
  uint32_t flags = 0;
  std::vector<Entry> entries;
  bool read_write(BoxBuffer& b);
};

struct Stco {
  static constexpr FourCC kType = fourcc("stco");
  uint8_t version = 0;
  uint32_t flags = 0;
  std::vector<uint64_t> offsets;
  bool read_write(BoxBuffer& b);
};

struct Co64 {
  static constexpr FourCC kType = fourcc("co64");
  uint8_t version = 0;
  uint32_t flags = 0;
  std::vector<uint64_t> offsets;
  bool read_write(BoxBuffer& b);
};

struct Stbl {
  static constexpr FourCC kType = fourcc("stbl");
  Stsd stsd;
  Stts stts;
  std::optional<Ctts> ctts;
  std::optional<Stss> stss;
  Stsc stsc;
  std::optional<Stsz> stsz;
  std::optional<Stz2> stz2;
  std::optional<Stco> stco;
  std::optional<Co64> co64;
  bool read_write(BoxBuffer& b);
};

struct Minf {
  static constexpr FourCC kType = fourcc("minf");
  std::optional<Vmhd> vmhd;
  std::optional<Smhd> smhd;
  std::optional<Sthd> sthd;
  std::optional<Dinf> dinf;
  Stbl stbl;
  bool read_write(BoxBuffer& b);
};

struct Mdia {
  static constexpr FourCC kType = fourcc("mdia");
  Mdhd mdhd;
  Hdlr hdlr;
  Minf minf;
  bool read_write(BoxBuffer& b);
};

struct Elst {
  static constexpr FourCC kType = fourcc("elst");
  struct Entry {
    uint64_t segment_duration = 0;  // movie timescale
    int64_t media_time = 0;         // media timescale; -1 = an empty edit
    int16_t rate_integer = 1;
    int16_t rate_fraction = 0;
  };
  uint8_t version = 0;
  uint32_t flags = 0;
  std::vector<Entry> entries;
  bool read_write(BoxBuffer& b);
};

struct Edts {
  static constexpr FourCC kType = fourcc("edts");
  Elst elst;
  bool read_write(BoxBuffer& b);
};

struct Trak {
  static constexpr FourCC kType = fourcc("trak");
  Tkhd tkhd;
  std::optional<Edts> edts;
  Mdia mdia;
  bool read_write(BoxBuffer& b);
};

struct Mehd {
  static constexpr FourCC kType = fourcc("mehd");
  uint8_t version = 0;
  uint32_t flags = 0;
  uint64_t fragment_duration = 0;
  bool read_write(BoxBuffer& b);
};

struct Trex {
  static constexpr FourCC kType = fourcc("trex");
  uint8_t version = 0;
  uint32_t flags = 0;
  uint32_t track_id = 1;
  uint32_t default_sample_description_index = 1;
  uint32_t default_sample_duration = 0;
  uint32_t default_sample_size = 0;
  uint32_t default_sample_flags = 0;
  bool read_write(BoxBuffer& b);
};

struct Mvex {
  static constexpr FourCC kType = fourcc("mvex");
  std::optional<Mehd> mehd;
  std::vector<Trex> trex;
  bool read_write(BoxBuffer& b);
};

// A protection system specific header (ISO/IEC 23001-7 8.1): the data a DRM system (or the W3C
// common system, version 1 with key ids) needs to find its licence.
struct Pssh {
  static constexpr FourCC kType = fourcc("pssh");
  uint8_t version = 0;  // 1: key ids listed
  uint32_t flags = 0;
  std::array<uint8_t, 16> system_id = {};
  std::vector<std::array<uint8_t, 16>> key_ids;  // version 1
  Bytes data;
  bool read_write(BoxBuffer& b);
};

struct Moov {
  static constexpr FourCC kType = fourcc("moov");
  Mvhd mvhd;
  std::optional<Mvex> mvex;
  std::vector<Trak> traks;
  // Written after mvex (protected init segments); not read from input files, whose pssh boxes
  // mean nothing to the server.
  std::vector<Pssh> pssh;
  bool read_write(BoxBuffer& b);
};

struct Mfhd {
  static constexpr FourCC kType = fourcc("mfhd");
  uint8_t version = 0;
  uint32_t flags = 0;
  uint32_t sequence_number = 1;
  bool read_write(BoxBuffer& b);
};

// Sample flags (ISO/IEC 14496-12 8.8.3.1) for sync and non-sync samples.
inline constexpr uint32_t kSampleFlagsSync = 0x02000000;     // depends on no other sample
inline constexpr uint32_t kSampleFlagsNonSync = 0x01010000;  // depends on others, non-sync

struct Tfhd {
  static constexpr FourCC kType = fourcc("tfhd");
  static constexpr uint32_t kBaseDataOffset = 0x000001;
  static constexpr uint32_t kSampleDescriptionIndex = 0x000002;
  static constexpr uint32_t kDefaultSampleDuration = 0x000008;
  static constexpr uint32_t kDefaultSampleSize = 0x000010;
  static constexpr uint32_t kDefaultSampleFlags = 0x000020;
  static constexpr uint32_t kDurationIsEmpty = 0x010000;
  static constexpr uint32_t kDefaultBaseIsMoof = 0x020000;
  uint8_t version = 0;
  uint32_t flags = kDefaultBaseIsMoof;
  uint32_t track_id = 1;
  uint64_t base_data_offset = 0;
  uint32_t sample_description_index = 1;
  uint32_t default_sample_duration = 0;
  uint32_t default_sample_size = 0;
  uint32_t default_sample_flags = 0;
  bool read_write(BoxBuffer& b);
};

struct Tfdt {
  static constexpr FourCC kType = fourcc("tfdt");
  uint8_t version = 1;
  uint32_t flags = 0;
  uint64_t base_media_decode_time = 0;
  bool read_write(BoxBuffer& b);
};

struct Trun {
  static constexpr FourCC kType = fourcc("trun");
  static constexpr uint32_t kDataOffset = 0x000001;
  static constexpr uint32_t kFirstSampleFlags = 0x000004;
  static constexpr uint32_t kSampleDuration = 0x000100;
  static constexpr uint32_t kSampleSize = 0x000200;
  static constexpr uint32_t kSampleFlags = 0x000400;
  static constexpr uint32_t kSampleCompositionOffset = 0x000800;
  struct Entry {
    uint32_t duration = 0;
    uint32_t size = 0;
    uint32_t flags = 0;
    int32_t composition_offset = 0;  // signed in version 1
  };
  uint8_t version = 1;
  uint32_t flags = kDataOffset | kSampleDuration | kSampleSize | kSampleFlags;
  int32_t data_offset = 0;
  uint32_t first_sample_flags = 0;
  std::vector<Entry> entries;
  bool read_write(BoxBuffer& b);
};

struct Traf {
  static constexpr FourCC kType = fourcc("traf");
  Tfhd tfhd;
  std::optional<Tfdt> tfdt;
  std::vector<Trun> truns;
  bool read_write(BoxBuffer& b);
};

struct Moof {
  static constexpr FourCC kType = fourcc("moof");
  Mfhd mfhd;
  std::vector<Traf> trafs;
  bool read_write(BoxBuffer& b);
};

struct Sidx {
  static constexpr FourCC kType = fourcc("sidx");
  struct Reference {
    bool reference_type = false;  // true: points at another sidx
    uint32_t referenced_size = 0;
    uint32_t subsegment_duration = 0;
    bool starts_with_sap = true;
    uint8_t sap_type = 1;
    uint32_t sap_delta_time = 0;
  };
  uint8_t version = 1;
  uint32_t flags = 0;
  uint32_t reference_id = 1;
  uint32_t timescale = 0;
  uint64_t earliest_presentation_time = 0;
  uint64_t first_offset = 0;
  std::vector<Reference> references;
  bool read_write(BoxBuffer& b);
};

// The movie fragment random access box: per track, where each sync sample's moof is. The index
// reader does not need it (it reads every moof header anyway), but files carry it and tools that
// rewrite files keep it.
struct Tfra {
  static constexpr FourCC kType = fourcc("tfra");
  struct Entry {
    uint64_t time = 0;
    uint64_t moof_offset = 0;
    uint32_t traf_number = 1;
    uint32_t trun_number = 1;
    uint32_t sample_number = 1;
  };
  uint8_t version = 1;
  uint32_t flags = 0;
  uint32_t track_id = 1;
  // Bytes minus one of traf_number, trun_number and sample_number (0..3 each).
  uint8_t length_size_of_traf_num = 0;
  uint8_t length_size_of_trun_num = 0;
  uint8_t length_size_of_sample_num = 0;
  std::vector<Entry> entries;
  bool read_write(BoxBuffer& b);
};

struct Mfro {
  static constexpr FourCC kType = fourcc("mfro");
  uint8_t version = 0;
  uint32_t flags = 0;
  uint32_t size = 0;  // of the enclosing mfra, so a reader can find it from the end of the file
  bool read_write(BoxBuffer& b);
};

struct Mfra {
  static constexpr FourCC kType = fourcc("mfra");
  std::vector<Tfra> tfra;
  std::optional<Mfro> mfro;
  bool read_write(BoxBuffer& b);
};

// Smooth Streaming's fragment time box (PIFF, uuid 6d1d9b05-42d5-44e6-80e2-141daff757b2): the
// fragment's absolute time and duration in the manifest timescale.
struct Tfxd {
  static constexpr FourCC kType = fourcc("uuid");
  static constexpr std::array<uint8_t, 16> kUserType = {0x6d, 0x1d, 0x9b, 0x05, 0x42, 0xd5,
                                                        0x44, 0xe6, 0x80, 0xe2, 0x14, 0x1d,
                                                        0xaf, 0xf7, 0x57, 0xb2};
  uint8_t version = 1;
  uint32_t flags = 0;
  uint64_t time = 0;
  uint64_t duration = 0;
  bool read_write(BoxBuffer& b);
};

}  // namespace ams::mp4
