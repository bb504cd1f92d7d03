// The scanner: a quick lstat-only walk that gives the progress line its
// totals (and so an ETA). Runs beside the backup, only on a terminal.
#include "customer/archive/archiver_internal.h"

#include <dirent.h>
#include <sys/stat.h>

namespace shardkeep::customer::archive_internal {

// Totals for the progress line's ETA: a quick lstat-only walk.
void Archiver::ScannerMain(const std::vector<std::string>& paths) {
  uint64_t files = 0, bytes = 0;
  std::vector<std::pair<std::string, dev_t>> stack;
  for (const auto& p : paths) {
    struct stat st;
    if (::lstat(p.c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      stack.emplace_back(p, st.st_dev);
    } else if (S_ISREG(st.st_mode)) {
      files++;
      bytes += st.st_size;
    }
  }
  while (!stack.empty() && !scan_stop_) {
    auto [dir, dev] = stack.back();
    stack.pop_back();
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) continue;
    while (struct dirent* de = ::readdir(d)) {
      std::string name = de->d_name;
      if (name == "." || name == "..") continue;
      std::string child = JoinPath(dir, name);
      if (!excluder_.empty() && excluder_.Excluded(child)) continue;
      struct stat st;
      if (::lstat(child.c_str(), &st) != 0) continue;
      if (S_ISDIR(st.st_mode)) {
        if (!opts_.one_file_system || st.st_dev == dev) stack.emplace_back(child, dev);
      } else if (S_ISREG(st.st_mode)) {
        files++;
        bytes += st.st_size;
      }
    }
    ::closedir(d);
  }
  if (scan_stop_) return;
  progress_.total_files = files;
  progress_.total_bytes = bytes;
  progress_.totals_known = true;
}


}  // namespace shardkeep::customer::archive_internal
