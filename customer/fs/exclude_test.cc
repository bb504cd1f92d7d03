// ExcludeMatcher: restic's filter semantics.
#include "customer/fs/fs.h"
#include "customer/fs/test_util.h"
#include "gtest/gtest.h"

namespace shardkeep::fs {
namespace {

ExcludeMatcher Make(const std::vector<std::string>& patterns) {
  absl::StatusOr<ExcludeMatcher> m = ExcludeMatcher::Create(patterns, {});
  EXPECT_TRUE(m.ok()) << m.status();
  return m.ok() ? *std::move(m) : *ExcludeMatcher::Create({}, {});
}

TEST(ExcludeTest, NoPatternsExcludeNothing) {
  ExcludeMatcher m = Make({});
  EXPECT_TRUE(m.empty());
  EXPECT_FALSE(m.Excluded("/"));
  EXPECT_FALSE(m.Excluded("/home/ann"));
  EXPECT_FALSE(Make({""}).Excluded("/home"));  // empty patterns are ignored
}

TEST(ExcludeTest, PatternWithoutSlashMatchesAnyComponent) {
  ExcludeMatcher m = Make({"*.o"});
  EXPECT_FALSE(m.empty());
  EXPECT_TRUE(m.Excluded("/src/main.o"));
  EXPECT_TRUE(m.Excluded("/main.o"));
  EXPECT_TRUE(m.Excluded("/src/dir.o/inner.c"));  // what is under an excluded dir
  EXPECT_FALSE(m.Excluded("/src/main.oo"));
  EXPECT_FALSE(m.Excluded("/src/main.c"));
  EXPECT_FALSE(m.Excluded("/src/o"));

  ExcludeMatcher cache = Make({".cache"});
  EXPECT_TRUE(cache.Excluded("/home/ann/.cache"));
  EXPECT_TRUE(cache.Excluded("/home/ann/.cache/x/y"));
  EXPECT_FALSE(cache.Excluded("/home/ann/.cachex"));
  EXPECT_FALSE(cache.Excluded("/home/ann/x.cache"));
}

TEST(ExcludeTest, AbsolutePatternIsAnchoredAndCoversWhatIsBelow) {
  ExcludeMatcher m = Make({"/home/ann/.cache"});
  EXPECT_TRUE(m.Excluded("/home/ann/.cache"));
  EXPECT_TRUE(m.Excluded("/home/ann/.cache/thumbnails/x.png"));
  EXPECT_FALSE(m.Excluded("/home/ann/.cachex"));
  EXPECT_FALSE(m.Excluded("/home/ann"));
  EXPECT_FALSE(m.Excluded("/backup/home/ann/.cache"));
  // Cleaned like Go's path.Clean.
  ExcludeMatcher unclean = Make({"/home//ann/./x/../.cache/"});
  EXPECT_TRUE(unclean.Excluded("/home/ann/.cache/y"));
  EXPECT_FALSE(unclean.Excluded("/home/ann/x"));
}

TEST(ExcludeTest, RelativePatternWithSlashMatchesAnyRunOfComponents) {
  ExcludeMatcher m = Make({"foo/bar"});
  EXPECT_TRUE(m.Excluded("/foo/bar"));
  EXPECT_TRUE(m.Excluded("/x/foo/bar"));
  EXPECT_TRUE(m.Excluded("/x/foo/bar/baz"));
  EXPECT_FALSE(m.Excluded("/x/foo/baz/bar"));
  EXPECT_FALSE(m.Excluded("/x/foo"));
  EXPECT_FALSE(m.Excluded("/x/foobar"));
}

TEST(ExcludeTest, DoubleStarCrossesComponents) {
  ExcludeMatcher m = Make({"/home/**/*.tmp"});
  EXPECT_TRUE(m.Excluded("/home/a.tmp"));
  EXPECT_TRUE(m.Excluded("/home/ann/a.tmp"));
  EXPECT_TRUE(m.Excluded("/home/ann/x/y/z/a.tmp"));
  EXPECT_FALSE(m.Excluded("/var/home/a.tmp"));
  EXPECT_FALSE(m.Excluded("/home/ann/a.txt"));

  ExcludeMatcher anywhere = Make({"**/secret"});
  EXPECT_TRUE(anywhere.Excluded("/secret"));
  EXPECT_TRUE(anywhere.Excluded("/a/b/c/secret"));
  EXPECT_TRUE(anywhere.Excluded("/a/secret/inside"));
  EXPECT_FALSE(anywhere.Excluded("/a/secrets"));

  ExcludeMatcher middle = Make({"/src/**/build/*.o"});
  EXPECT_TRUE(middle.Excluded("/src/build/a.o"));
  EXPECT_TRUE(middle.Excluded("/src/x/y/build/a.o"));
  EXPECT_FALSE(middle.Excluded("/src/x/y/build/sub/a.c"));
  EXPECT_FALSE(middle.Excluded("/other/build/a.o"));
}

TEST(ExcludeTest, GlobElements) {
  EXPECT_TRUE(Make({"file?.txt"}).Excluded("/d/file1.txt"));
  EXPECT_FALSE(Make({"file?.txt"}).Excluded("/d/file12.txt"));
  EXPECT_FALSE(Make({"file?.txt"}).Excluded("/d/file.txt"));
  ExcludeMatcher cls = Make({"[abc].txt"});
  EXPECT_TRUE(cls.Excluded("/b.txt"));
  EXPECT_FALSE(cls.Excluded("/d.txt"));
  ExcludeMatcher neg = Make({"[^abc].txt"});
  EXPECT_TRUE(neg.Excluded("/d.txt"));
  EXPECT_FALSE(neg.Excluded("/a.txt"));
  ExcludeMatcher range = Make({"v[0-9][0-9]"});
  EXPECT_TRUE(range.Excluded("/v42"));
  EXPECT_FALSE(range.Excluded("/v4x"));
  ExcludeMatcher star = Make({"a*b*c"});
  EXPECT_TRUE(star.Excluded("/abc"));
  EXPECT_TRUE(star.Excluded("/aXXbYYbZZc"));
  EXPECT_FALSE(star.Excluded("/aXXbYYcZZ"));
  // Escapes make glob characters literal: a name made of them.
  ExcludeMatcher literal = Make({"\\*\\?\\[\\]"});
  EXPECT_TRUE(literal.Excluded("/d/*?[]"));
  EXPECT_FALSE(literal.Excluded("/d/x?[]"));
  ExcludeMatcher esc_class = Make({"[\\]]"});
  EXPECT_TRUE(esc_class.Excluded("/]"));
  // Raw bytes, not UTF-8.
  ExcludeMatcher raw = Make({"\xff*"});
  EXPECT_TRUE(raw.Excluded("/d/\xff\xfe"));
  EXPECT_FALSE(raw.Excluded("/d/\xfe\xff"));
  EXPECT_TRUE(Make({"-*"}).Excluded("/d/-rf"));
}

TEST(ExcludeTest, NegatedPatternsReIncludeInOrder) {
  ExcludeMatcher m = Make({"/data/*", "!/data/keep"});
  EXPECT_TRUE(m.Excluded("/data/x"));
  EXPECT_FALSE(m.Excluded("/data/keep"));
  EXPECT_FALSE(m.Excluded("/data/keep/inside"));
  EXPECT_FALSE(m.Excluded("/data"));
  // A later plain pattern excludes again.
  ExcludeMatcher again = Make({"/data/*", "!/data/keep", "*.log"});
  EXPECT_TRUE(again.Excluded("/data/keep/x.log"));
  // A negation alone excludes nothing.
  EXPECT_FALSE(Make({"!/data"}).Excluded("/data"));
}

TEST(ExcludeTest, MalformedPatternsAreRejected) {
  for (const std::string bad : {"[abc", "a\\", "[]a]", "[-a]", "x/[", "[a-]"}) {
    absl::StatusOr<ExcludeMatcher> m = ExcludeMatcher::Create({bad}, {});
    EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(ExcludeTest, ExcludeFiles) {
  testing::TempDir dir;
  testing::WriteFile(dir / "excludes",
                     "# caches\n"
                     "\n"
                     "   *.tmp   \n"
                     "/home/ann/Downloads\n"
                     "\t# indented comment\n"
                     "!/home/ann/Downloads/keep\n");
  absl::StatusOr<ExcludeMatcher> m = ExcludeMatcher::Create({"*.o"}, {dir / "excludes"});
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_TRUE(m->Excluded("/x/a.o"));
  EXPECT_TRUE(m->Excluded("/x/a.tmp"));
  EXPECT_TRUE(m->Excluded("/home/ann/Downloads/big.iso"));
  EXPECT_FALSE(m->Excluded("/home/ann/Downloads/keep"));
  EXPECT_FALSE(m->Excluded("/home/ann/# caches"));
  EXPECT_FALSE(m->Excluded("/home/ann/x"));

  absl::StatusOr<ExcludeMatcher> missing = ExcludeMatcher::Create({}, {dir / "nope"});
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound) << missing.status();
  EXPECT_NE(missing.status().message().find("nope"), std::string::npos);
}

}  // namespace
}  // namespace shardkeep::fs
