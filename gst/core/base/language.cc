#include "base/language.h"

#include <utility>

namespace ams {

std::string iso639_1_of(std::string_view iso639_2) {
  static constexpr std::pair<std::string_view, std::string_view> kTable[] = {
      {"ara", "ar"}, {"bul", "bg"}, {"cat", "ca"}, {"ces", "cs"}, {"chi", "zh"}, {"cze", "cs"},
      {"dan", "da"}, {"deu", "de"}, {"dut", "nl"}, {"ell", "el"}, {"eng", "en"}, {"est", "et"},
      {"fas", "fa"}, {"fin", "fi"}, {"fra", "fr"}, {"fre", "fr"}, {"ger", "de"}, {"gre", "el"},
      {"heb", "he"}, {"hin", "hi"}, {"hrv", "hr"}, {"hun", "hu"}, {"ind", "id"}, {"ita", "it"},
      {"jpn", "ja"}, {"kor", "ko"}, {"lav", "lv"}, {"lit", "lt"}, {"msa", "ms"}, {"nld", "nl"},
      {"nor", "no"}, {"per", "fa"}, {"pol", "pl"}, {"por", "pt"}, {"ron", "ro"}, {"rum", "ro"},
      {"rus", "ru"}, {"slk", "sk"}, {"slo", "sk"}, {"slv", "sl"}, {"spa", "es"}, {"srp", "sr"},
      {"swe", "sv"}, {"tha", "th"}, {"tur", "tr"}, {"ukr", "uk"}, {"vie", "vi"}, {"zho", "zh"},
  };
  for (const auto& [three, two] : kTable) {
    if (iso639_2 == three) return std::string(two);
  }
  return std::string(iso639_2);
}

}  // namespace ams
