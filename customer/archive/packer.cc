// The packer stage: new chunks into the BlockWriter.
#include "customer/archive/archiver_internal.h"


namespace shardkeep::customer::archive_internal {

// Hands every new chunk to the BlockWriter, which seals, codes, uploads and
// commits blocks (customer/repo/block_writer.h).
void Archiver::PackerMain() {
  while (auto items = pack_q_.Pop()) {
    for (PackItem& item : *items) {
      absl::Status s =
          writer_->Add(item.kind, item.id, item.stored, item.raw_length, item.compressed);
      if (!s.ok()) return;  // the writer has called Fail already
    }
  }
  if (aborted()) return;
  writer_->Flush().IgnoreError();  // an error reaches Fail through the writer
}

}  // namespace shardkeep::customer::archive_internal
