#include "text/ttml.h"

#include <glib.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ams::text {
namespace {

WebVtt parsed(std::string_view text) {
  Result<WebVtt> r = parse_webvtt(text);
  EXPECT_TRUE(r.is_ok()) << r.status().to_string();
  return r.is_ok() ? *r : WebVtt{};
}

// Whether `xml` is well-formed (GLib's GMarkup parser: a real XML parser for the subset TTML
// uses, namespaces read as plain names), and the text of its <p> elements, <br/> as '\n'.
struct Parsed {
  bool ok = false;
  std::string error;
  std::vector<std::string> paragraphs;
  std::vector<std::string> begins;
};

Parsed parse_xml(const std::string& xml) {
  Parsed out;
  struct State {
    Parsed* out;
    int in_p = 0;
  } state{&out};
  GMarkupParser parser = {};
  parser.start_element = [](GMarkupParseContext*, const gchar* name, const gchar** names,
                            const gchar** values, gpointer data, GError**) {
    auto* s = static_cast<State*>(data);
    if (std::string(name) == "p") {
      ++s->in_p;
      s->out->paragraphs.emplace_back();
      for (int i = 0; names[i] != nullptr; ++i) {
        if (std::string(names[i]) == "begin") s->out->begins.push_back(values[i]);
      }
    } else if (std::string(name) == "br" && s->in_p) {
      s->out->paragraphs.back() += '\n';
    }
  };
  parser.end_element = [](GMarkupParseContext*, const gchar* name, gpointer data, GError**) {
    auto* s = static_cast<State*>(data);
    if (std::string(name) == "p") --s->in_p;
  };
  parser.text = [](GMarkupParseContext*, const gchar* text, gsize len, gpointer data, GError**) {
    auto* s = static_cast<State*>(data);
    if (s->in_p) s->out->paragraphs.back().append(text, len);
  };
  GMarkupParseContext* ctx =
      g_markup_parse_context_new(&parser, G_MARKUP_PREFIX_ERROR_POSITION, &state, nullptr);
  GError* error = nullptr;
  // GMarkup takes no XML declaration: the document after it.
  const std::string body = xml.substr(xml.find("?>") + 2);
  out.ok = g_markup_parse_context_parse(ctx, body.data(), body.size(), &error) &&
           g_markup_parse_context_end_parse(ctx, &error);
  if (error != nullptr) {
    out.error = error->message;
    g_error_free(error);
  }
  g_markup_parse_context_free(ctx);
  return out;
}

TEST(TtmlTest, WritesAnImsc1TextDocumentOfTheSpansCues) {
  const WebVtt v = parsed(
      "WEBVTT\n\n"
      "00:00:01.000 --> 00:00:03.000\nfirst\n\n"
      "00:00:05.500 --> 00:00:06.500 line:0 align:start\nspans the <b>6 s</b> boundary\n\n"
      "00:00:07.000 --> 00:00:08.000\nlater\n");
  EXPECT_EQ(write_ttml(v, 0, 6000, "en"),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<tt xmlns=\"http://www.w3.org/ns/ttml\" "
            "xmlns:ttp=\"http://www.w3.org/ns/ttml#parameter\" "
            "xmlns:tts=\"http://www.w3.org/ns/ttml#styling\" "
            "ttp:profile=\"http://www.w3.org/ns/ttml/profile/imsc1/text\" xml:lang=\"en\">\n"
            "<head>\n<layout>\n"
            "<region xml:id=\"bottom\" tts:origin=\"10% 10%\" tts:extent=\"80% 80%\" "
            "tts:displayAlign=\"after\" tts:textAlign=\"center\"/>\n"
            "<region xml:id=\"top\" tts:origin=\"10% 10%\" tts:extent=\"80% 80%\" "
            "tts:displayAlign=\"before\" tts:textAlign=\"center\"/>\n"
            "</layout>\n</head>\n<body>\n<div>\n"
            "<p begin=\"00:00:01.000\" end=\"00:00:03.000\" region=\"bottom\">first</p>\n"
            "<p begin=\"00:00:05.500\" end=\"00:00:06.000\" region=\"top\" "
            "tts:textAlign=\"start\">spans the <span tts:fontWeight=\"bold\">6 s</span> "
            "boundary</p>\n"
            "</div>\n</body>\n</tt>\n");
  // The cue that crosses the boundary is in the next document too, from the boundary on.
  const Parsed next = parse_xml(write_ttml(v, 6000, 12000, "en"));
  ASSERT_TRUE(next.ok) << next.error;
  EXPECT_EQ(next.paragraphs, (std::vector<std::string>{"spans the 6 s boundary", "later"}));
  EXPECT_EQ(next.begins, (std::vector<std::string>{"00:00:06.000", "00:00:07.000"}));
  // A span without cues is still a document; the offset moves every time.
  const Parsed empty = parse_xml(write_ttml(v, 20000, 26000, ""));
  EXPECT_TRUE(empty.ok) << empty.error;
  EXPECT_TRUE(empty.paragraphs.empty());
  EXPECT_EQ(parse_xml(write_ttml(v, 0, 2000, "fr", 10000)).begins,
            (std::vector<std::string>{"00:00:11.000"}));
}

TEST(TtmlTest, CueTextBecomesTtmlInlineContent) {
  const WebVtt v = parsed(
      "WEBVTT\n\n"
      "00:01.000 --> 00:02.000 line:-1 align:end\n"
      "<v Anna>Tom &amp; Jerry</v> &lt;3\n<i>it<u>al</u></i>ic&nbsp;<c.yellow>x</c><00:01.500>y\n\n"
      "00:02.000 --> 00:03.000 line:80%\n"
      "<b>never closed <i>nested\n\n"
      "00:03.000 --> 00:04.000 line:10%\n"
      "</b>stray end &bogus; & &#x41;&#66;&#0; <ruby>k<rt>r</rt></ruby>\n");
  const std::string xml = write_ttml(v, 0, 10000, "en");
  const Parsed p = parse_xml(xml);
  ASSERT_TRUE(p.ok) << p.error << "\n" << xml;
  ASSERT_EQ(p.paragraphs.size(), 3u);
  EXPECT_EQ(p.paragraphs[0], "Tom & Jerry <3\nitalic\xC2\xA0xy");
  EXPECT_EQ(p.paragraphs[1], "never closed nested");
  EXPECT_EQ(p.paragraphs[2], "stray end &bogus; & AB&#0; kr");
  EXPECT_NE(xml.find("<span tts:fontStyle=\"italic\">it<span tts:textDecoration=\"underline\">al"
                     "</span></span>ic"),
            std::string::npos);
  EXPECT_NE(xml.find("region=\"bottom\" tts:textAlign=\"end\">"), std::string::npos);
  EXPECT_NE(xml.find("<span tts:fontWeight=\"bold\">never closed <span "
                     "tts:fontStyle=\"italic\">nested</span></span></p>"),
            std::string::npos);
  EXPECT_NE(xml.find("end=\"00:00:04.000\" region=\"top\">"), std::string::npos);
}

TEST(TtmlTest, HostileCueTextStillMakesWellFormedXml) {
  WebVtt v;
  const std::string texts[] = {
      "<",
      "<b",
      "a<b>b<i>c</b>d",
      "]]><![CDATA[",
      "\x01\x02\x1f tab\there",
      "&#xD800;&#1114112;",
      std::string(200, '<') + "b>" + std::string(100, 'x'),
      "<\"'>&\"'",
      "&#x;&#;&;&#xZZ;",
  };
  int64_t t = 0;
  for (const std::string& text : texts) {
    v.cues.push_back({"", t, t + 500, "line:abc align:\"", text});
    t += 500;
  }
  const std::string xml = write_ttml(v, 0, t, "x\"y\xEF");
  EXPECT_NE(xml.find("xml:lang=\"\""), std::string::npos);
  const Parsed p = parse_xml(xml);
  EXPECT_TRUE(p.ok) << p.error << "\n" << xml;
  EXPECT_EQ(p.paragraphs.size(), std::size(texts));
}

}  // namespace
}  // namespace ams::text
