#include "customer/repo/forget_policy.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace shardkeep::customer {
namespace {

// ISO 8601 week-numbering year * 100 + week (Monday starts the week; week 1
// holds the year's first Thursday), as Go's ISOWeek that restic uses.
int64_t IsoWeek(absl::CivilDay d) {
  const int wd = [&] {
    switch (absl::GetWeekday(d)) {
      case absl::Weekday::monday: return 1;
      case absl::Weekday::tuesday: return 2;
      case absl::Weekday::wednesday: return 3;
      case absl::Weekday::thursday: return 4;
      case absl::Weekday::friday: return 5;
      case absl::Weekday::saturday: return 6;
      case absl::Weekday::sunday: return 7;
    }
    return 1;
  }();
  const absl::CivilDay thursday = d + (4 - wd);
  const int week = (absl::GetYearDay(thursday) - 1) / 7 + 1;
  return thursday.year() * 100 + week;
}

struct Bucket {
  const char* name;
  int count;
  int64_t last = -1;  // bucket value of the last snapshot kept by this rule
};

}  // namespace

bool ForgetPolicy::empty() const {
  return last == 0 && hourly == 0 && daily == 0 && weekly == 0 && monthly == 0 && yearly == 0 &&
         within_ns == 0 && keep_tags.empty();
}

std::vector<ForgetGroup> ApplyForgetPolicy(const std::vector<vault::v1::Snapshot>& snapshots,
                                           const ForgetPolicy& policy, const GroupBy& group_by,
                                           absl::TimeZone tz) {
  std::map<std::string, std::vector<vault::v1::Snapshot>> groups;
  std::map<std::string, std::string> descriptions;
  for (const auto& s : snapshots) {
    std::vector<std::string> paths(s.paths().begin(), s.paths().end());
    std::vector<std::string> tags(s.tags().begin(), s.tags().end());
    std::sort(paths.begin(), paths.end());
    std::sort(tags.begin(), tags.end());
    std::string key, desc;
    if (group_by.host) {
      absl::StrAppend(&key, "h", s.hostname().size(), ":", s.hostname());
      absl::StrAppend(&desc, "host ", s.hostname());
    }
    if (group_by.paths) {
      for (const auto& p : paths) absl::StrAppend(&key, "p", p.size(), ":", p);
      absl::StrAppend(&desc, desc.empty() ? "" : ", ", "paths ", absl::StrJoin(paths, " "));
    }
    if (group_by.tags) {
      for (const auto& t : tags) absl::StrAppend(&key, "t", t.size(), ":", t);
      absl::StrAppend(&desc, desc.empty() ? "" : ", ", "tags ", absl::StrJoin(tags, ","));
    }
    groups[key].push_back(s);
    descriptions[key] = desc.empty() ? "all snapshots" : desc;
  }

  std::vector<ForgetGroup> out;
  for (auto& [key, list] : groups) {
    std::sort(list.begin(), list.end(), [](const auto& a, const auto& b) {
      return a.time_ns() != b.time_ns() ? a.time_ns() > b.time_ns() : a.id() > b.id();
    });
    ForgetGroup g;
    g.description = descriptions[key];
    Bucket buckets[] = {{"last", policy.last},     {"hourly", policy.hourly},
                        {"daily", policy.daily},   {"weekly", policy.weekly},
                        {"monthly", policy.monthly}, {"yearly", policy.yearly}};
    const int64_t newest_ns = list.front().time_ns();
    for (size_t nr = 0; nr < list.size(); ++nr) {
      const auto& s = list[nr];
      std::vector<std::string> why;
      for (const auto& t : policy.keep_tags) {
        if (std::find(s.tags().begin(), s.tags().end(), t) != s.tags().end()) {
          why.push_back(absl::StrCat("tag ", t));
          break;
        }
      }
      if (policy.within_ns > 0 && s.time_ns() > newest_ns - policy.within_ns) {
        why.push_back("within");
      }
      const absl::CivilSecond c = absl::ToCivilSecond(absl::FromUnixNanos(s.time_ns()), tz);
      const int64_t values[] = {
          static_cast<int64_t>(nr),
          c.year() * 1000000 + c.month() * 10000 + c.day() * 100 + c.hour(),
          c.year() * 10000 + c.month() * 100 + c.day(),
          IsoWeek(absl::CivilDay(c)),
          c.year() * 100 + c.month(),
          c.year(),
      };
      for (size_t i = 0; i < 6; ++i) {
        Bucket& b = buckets[i];
        if (b.count == 0) continue;
        if (values[i] != b.last) {
          b.last = values[i];
          if (b.count > 0) --b.count;
          why.push_back(b.name);
        }
      }
      if (why.empty()) {
        g.remove.push_back(s);
      } else {
        g.keep.push_back(s);
        g.keep_reasons.push_back(absl::StrJoin(why, ", "));
      }
    }
    out.push_back(std::move(g));
  }
  std::sort(out.begin(), out.end(), [](const ForgetGroup& a, const ForgetGroup& b) {
    auto newest = [](const ForgetGroup& g) {
      return g.keep.empty() ? g.remove.front().time_ns() : g.keep.front().time_ns();
    };
    return newest(a) < newest(b);
  });
  return out;
}

}  // namespace shardkeep::customer
