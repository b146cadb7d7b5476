/**
 * `npm start`: the first run on the embedded default. Initialises ~/.rem (or
 * REM_DATA), appends a few events as one signed commit, reads the log back and
 * verifies it — each step through the real `rem` CLI, printed as it runs.
 */
import { spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";

const bin = fileURLToPath(new URL("../../../bin/rem.js", import.meta.url));

if (!process.env.REM_PASSPHRASE) {
  process.stderr.write(
    "rem: the keystore is sealed by a passphrase. Run, for example:\n\n" +
      "  REM_PASSPHRASE='choose a long passphrase' npm start\n\n" +
      "(data goes to ~/.rem; set REM_DATA to put it elsewhere)\n",
  );
  process.exit(1);
}

function run(args: string[], input?: string): string {
  process.stderr.write(`\n$ rem ${args.join(" ")}${input ? " < events.jsonl" : ""}\n`);
  const r = spawnSync(process.execPath, [bin, ...args], { input, encoding: "utf8", stdio: ["pipe", "pipe", "inherit"] });
  process.stdout.write(r.stdout);
  if (r.status !== 0) process.exit(r.status ?? 1);
  return r.stdout;
}

const note = randomUUID();
const article = randomUUID();
const events = [
  { type: "entity.upserted", entity_id: note, schema: "notes", data: { title: "Hello REM", content: "The log is the source of truth." } },
  { type: "entity.upserted", entity_id: article, schema: "articles", data: { title: "Event sourcing", category: "databases" } },
  { type: "edge.added", src: note, dst: article, edge_type: "references", props: { weight: 1 } },
];

run(["init"]);
const appended = JSON.parse(run(["log", "append"], events.map((e) => JSON.stringify(e)).join("\n"))) as { first_seq: number };
run(["log", "read", "--from", String(appended.first_seq)]);
run(["verify"]);
process.stderr.write("\nrem: done. Try `node bin/rem.js --help`, or `npx rem log read --follow` in another terminal.\n");
