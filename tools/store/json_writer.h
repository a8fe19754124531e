// A small pretty-printing JSON writer for the documents the store prints (listPaths, policies,
// locators): json-glib is not a dependency and these documents are a few nested lists.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ams::store {

// Appends `text` as a JSON string literal, quotes included. UTF-8 passes through; quotes,
// backslashes and control characters are escaped (RFC 8259 section 7).
void append_json_string(std::string& out, std::string_view text);

// Writes one JSON value with two-space indentation, in the layout AMS's REST examples use:
//   JsonWriter w; w.begin_object().key("a").value(true).end_object(); w.text() == "{\n  \"a\":
//   true\n}"
// An empty array or object prints as [] or {}. Callers keep begin/end balanced.
class JsonWriter {
 public:
  JsonWriter& begin_object() { return open('{'); }
  JsonWriter& end_object() { return close('}'); }
  JsonWriter& begin_array() { return open('['); }
  JsonWriter& end_array() { return close(']'); }
  JsonWriter& key(std::string_view name);
  JsonWriter& value(std::string_view text);
  JsonWriter& value(const char* text) { return value(std::string_view(text)); }
  JsonWriter& value(bool flag);
  // The document, ending with a newline.
  std::string text() const { return out_ + "\n"; }

 private:
  JsonWriter& open(char bracket);
  JsonWriter& close(char bracket);
  // Writes the comma and the line break that come before a value or a key.
  void next_item();
  void newline();

  std::string out_;
  std::vector<bool> has_items_;  // one per open object or array
  bool after_key_ = false;
};

}  // namespace ams::store
