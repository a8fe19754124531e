// Language codes: the .ism and MP4 `mdhd` carry ISO 639-2 (bibliographic or terminology), DASH
// @lang and AMS filters use RFC 5646, which takes the ISO 639-1 code where there is one.
#pragma once

#include <string>
#include <string_view>

namespace ams {

// The ISO 639-1 code of an ISO 639-2 one ("eng" -> "en", "fre" and "fra" -> "fr"); an unknown
// code comes back unchanged.
std::string iso639_1_of(std::string_view iso639_2);
// The ISO 639-2 (terminology) code of an ISO 639-1 one ("fr" -> "fra", "de" -> "deu"); an unknown
// code comes back unchanged.
std::string iso639_2_of(std::string_view iso639_1);

}  // namespace ams
