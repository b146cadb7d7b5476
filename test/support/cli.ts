import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const BIN = fileURLToPath(new URL("../../bin/rem.js", import.meta.url));

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout parsed as JSON (undefined when it is not one JSON document). */
  readonly json: unknown;
  /** stdout parsed as JSON lines. */
  readonly lines: unknown[];
  /** The `error` object from stderr, when the command failed. */
  readonly error: { code: string; message: string; details: Record<string, unknown> } | undefined;
}

/** Runs the built `rem` CLI (bin/rem.js → dist/) as a child process. */
export function rem(args: string[], options: { env?: Record<string, string | undefined>; input?: string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, REM_DATA: undefined, REM_TENANT: undefined, REM_NATS_URL: undefined, REM_PASSPHRASE: undefined, ...options.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      let json: unknown;
      try {
        json = JSON.parse(stdout);
      } catch {
        json = undefined;
      }
      const lines = stdout
        .split("\n")
        .filter((l) => l.trim() !== "")
        .map((l) => {
          try {
            return JSON.parse(l) as unknown;
          } catch {
            return l;
          }
        });
      const errLine = stderr.split("\n").find((l) => l.startsWith('{"error"'));
      const error = errLine ? (JSON.parse(errLine) as { error: CliResult["error"] }).error : undefined;
      resolve({ code: code ?? -1, stdout, stderr, json, lines, error });
    });
    child.stdin.end(options.input ?? "");
  });
}
