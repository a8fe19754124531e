// XML text escaping shared by every XML the project writes (.ism, Smooth manifests, MPDs).
#pragma once

#include <string>
#include <string_view>

namespace ams {

// Escapes &, <, >, " and ' for use as text or inside a quoted attribute value, and writes control
// characters (tab, line ends) as character references, since XML readers normalise them away in
// attribute values.
std::string xml_escape(std::string_view text);
void append_xml_escaped(std::string& out, std::string_view text);

}  // namespace ams
