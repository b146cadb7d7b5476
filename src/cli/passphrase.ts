import type { RemConfig } from "../config/config.js";

/**
 * The passphrase from --password / REM_PASSPHRASE, or asked for on the
 * terminal when there is one (input hidden). Without either it stays
 * undefined and commands that need it say so.
 */
export async function withPassphrase(config: RemConfig, prompt: string): Promise<RemConfig> {
  if (config.passphrase !== undefined || !process.stdin.isTTY || !process.stderr.isTTY) return config;
  const passphrase = await askHidden(prompt);
  return { ...config, passphrase: passphrase === "" ? undefined : passphrase };
}

function askHidden(prompt: string): Promise<string> {
  return new Promise((resolve) => {
    const stdin = process.stdin;
    process.stderr.write(prompt);
    stdin.setRawMode(true);
    stdin.resume();
    let value = "";
    const onData = (buf: Buffer) => {
      for (const ch of buf.toString("utf8")) {
        if (ch === "\r" || ch === "\n" || ch === "\u0004") {
          stdin.setRawMode(false);
          stdin.pause();
          stdin.off("data", onData);
          process.stderr.write("\n");
          resolve(value);
          return;
        }
        if (ch === "\u0003") {
          stdin.setRawMode(false);
          process.stderr.write("\n");
          process.exit(130);
        }
        if (ch === "\u007f") value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.on("data", onData);
  });
}
