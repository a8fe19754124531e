// A small XML writer for the Smooth manifest and the MPD: escaped attributes, AMS layout
// (three-space indentation, `<Element a="1" />` for empty elements), and no allocation tricks.
#pragma once

#include <concepts>
#include <string>
#include <string_view>
#include <vector>

#include "base/xml.h"

namespace ams::manifest {

using ams::xml_escape;

class XmlWriter {
 public:
  explicit XmlWriter(int indent_width = 3) : indent_width_(indent_width) {}

  // <?xml version="1.0" encoding="UTF-8"?>
  void declaration();
  // Starts `<name`; follow with attr() calls, then children(), empty() or text().
  XmlWriter& open(std::string_view name);
  XmlWriter& attr(std::string_view name, std::string_view value);
  template <std::integral T>
  XmlWriter& attr(std::string_view name, T value) {
    return attr(name, std::string_view(std::to_string(value)));
  }
  void children();                   // `>` : child elements follow, closed by close()
  void empty();                      // ` />`
  void text(std::string_view text);  // `>text</name>`
  void close();                      // `</name>` of the innermost element opened with children()

  const std::string& str() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  void indent();

  int indent_width_;
  std::string out_;
  std::vector<std::string> open_;  // elements whose children are being written
  std::string pending_;            // the element whose start tag is being written
};

}  // namespace ams::manifest
