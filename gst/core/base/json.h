// A small streaming JSON writer: enough for `ams inspect`, listPaths and the REST-shaped output of
// the CLI. Keys and strings are escaped per RFC 8259; numbers are integers or finite doubles.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ams {

class JsonWriter {
 public:
  explicit JsonWriter(bool pretty = true) : pretty_(pretty) {}

  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(std::string_view k);
  JsonWriter& value(std::string_view v);
  JsonWriter& value(const char* v) { return value(std::string_view(v)); }
  JsonWriter& value(int64_t v);
  JsonWriter& value(uint64_t v);
  JsonWriter& value(int v) { return value(static_cast<int64_t>(v)); }
  JsonWriter& value(unsigned v) { return value(static_cast<uint64_t>(v)); }
  JsonWriter& value(double v);
  JsonWriter& value(bool v);
  JsonWriter& null();

  const std::string& str() const { return out_; }

 private:
  void before_value();
  JsonWriter& close(char bracket);
  void newline();

  std::string out_;
  // Per open container: whether it has an element yet.
  std::vector<bool> has_items_;
  bool after_key_ = false;
  bool pretty_;
};

std::string json_escape(std::string_view s);  // without the surrounding quotes

}  // namespace ams
