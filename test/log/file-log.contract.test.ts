import { join } from "node:path";
import { FileLog } from "../../events/log/file/file-log.js";
import { describeLogContract } from "../contract/log-contract.js";
import { tempDir } from "../support/tmp.js";

let dir: { path: string; cleanup(): Promise<void> };

describeLogContract({
  name: "embedded file log",
  async setup() {
    dir = await tempDir("rem-filelog-");
  },
  async teardown() {
    await dir.cleanup();
  },
  open(tenant, mode) {
    // Small segments so the suite also crosses segment boundaries.
    return FileLog.open({ dir: join(dir.path, tenant), tenant, segmentBytes: 16 * 1024, readOnly: mode === "read" });
  },
});
