#include "manifest/xml_writer.h"

#include "base/xml.h"

namespace ams::manifest {

void XmlWriter::declaration() {
  out_ += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
}

void XmlWriter::indent() {
  out_.append(open_.size() * static_cast<size_t>(indent_width_), ' ');
}

XmlWriter& XmlWriter::open(std::string_view name) {
  indent();
  out_ += '<';
  out_ += name;
  pending_ = name;
  return *this;
}

XmlWriter& XmlWriter::attr(std::string_view name, std::string_view value) {
  out_ += ' ';
  out_ += name;
  out_ += "=\"";
  out_ += xml_escape(value);
  out_ += '"';
  return *this;
}

void XmlWriter::children() {
  out_ += ">\n";
  open_.push_back(std::move(pending_));
  pending_.clear();
}

void XmlWriter::empty() {
  out_ += " />\n";
  pending_.clear();
}

void XmlWriter::text(std::string_view text) {
  out_ += '>';
  out_ += xml_escape(text);
  out_ += "</";
  out_ += pending_;
  out_ += ">\n";
  pending_.clear();
}

void XmlWriter::close() {
  if (open_.empty()) return;
  std::string name = std::move(open_.back());
  open_.pop_back();
  indent();
  out_ += "</";
  out_ += name;
  out_ += ">\n";
}

}  // namespace ams::manifest
