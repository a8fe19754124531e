#include "base/language.h"

#include <algorithm>
#include <iterator>
#include <utility>

namespace ams {
namespace {

constexpr std::pair<std::string_view, std::string_view> kTable[] = {
    {"ara", "ar"}, {"bul", "bg"}, {"cat", "ca"}, {"ces", "cs"}, {"chi", "zh"}, {"cze", "cs"},
    {"dan", "da"}, {"deu", "de"}, {"dut", "nl"}, {"ell", "el"}, {"eng", "en"}, {"est", "et"},
    {"fas", "fa"}, {"fin", "fi"}, {"fra", "fr"}, {"fre", "fr"}, {"ger", "de"}, {"gre", "el"},
    {"heb", "he"}, {"hin", "hi"}, {"hrv", "hr"}, {"hun", "hu"}, {"ind", "id"}, {"ita", "it"},
    {"jpn", "ja"}, {"kor", "ko"}, {"lav", "lv"}, {"lit", "lt"}, {"msa", "ms"}, {"nld", "nl"},
    {"nor", "no"}, {"per", "fa"}, {"pol", "pl"}, {"por", "pt"}, {"ron", "ro"}, {"rum", "ro"},
    {"rus", "ru"}, {"slk", "sk"}, {"slo", "sk"}, {"slv", "sl"}, {"spa", "es"}, {"srp", "sr"},
    {"swe", "sv"}, {"tha", "th"}, {"tur", "tr"}, {"ukr", "uk"}, {"vie", "vi"}, {"zho", "zh"},
};

}  // namespace

std::string iso639_1_of(std::string_view iso639_2) {
  for (const auto& [three, two] : kTable) {
    if (iso639_2 == three) return std::string(two);
  }
  return std::string(iso639_2);
}

std::string iso639_2_of(std::string_view iso639_1) {
  static constexpr std::string_view kBibliographic[] = {"chi", "cze", "dut", "fre", "ger",
                                                        "gre", "per", "rum", "slo"};
  for (const auto& [three, two] : kTable) {
    if (iso639_1 != two) continue;
    if (std::find(std::begin(kBibliographic), std::end(kBibliographic), three) !=
        std::end(kBibliographic)) {
      continue;
    }
    return std::string(three);
  }
  return std::string(iso639_1);
}

}  // namespace ams
