import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { RemError } from "../../errors.js";
import { readJson, writeFileDurable } from "../../../events/keys/files.js";
import { tenantName, type TenantName } from "../../../events/model/ids.js";

/** Who a bearer token speaks for. */
export type Principal =
  | { readonly kind: "admin"; readonly id: string }
  | { readonly kind: "tenant"; readonly id: string; readonly tenant: TenantName; readonly readOnly: boolean };

interface TokenRecord {
  /** Short public id, shown in listings and logs (never the token). */
  readonly id: string;
  /** SHA-256 of the token, hex. Tokens are 256 random bits, so a fast hash is enough. */
  readonly hash: string;
  readonly kind: "admin" | "tenant";
  readonly tenant?: string;
  readonly read_only?: boolean;
  readonly created_at: string;
  readonly label?: string;
}

interface TokenFile {
  v: 1;
  tokens: TokenRecord[];
}

const PREFIX = "rem_";

function hash(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

function newToken(): string {
  return PREFIX + randomBytes(32).toString("base64url");
}

/**
 * Bearer tokens, stored hashed in `<data>/auth/tokens.json`. The plaintext of a
 * token is shown once, when it is made. The file is re-read when it changes, so
 * `rem token create` takes effect on a running server.
 */
export class TokenStore {
  readonly path: string;
  #records: TokenRecord[] = [];
  #mtime = -1;
  /** Tokens verified since the file was last checked (cleared by every check: revocations apply within a second). */
  readonly #verified = new Map<string, Principal>();
  /** When the file's mtime was last looked at: at most once a second on the request path. */
  #checkedAt = 0;
  #envAdmin: string | null;

  constructor(dataDir: string, envAdminToken?: string) {
    this.path = join(dataDir, "auth", "tokens.json");
    this.#envAdmin = envAdminToken === undefined || envAdminToken.trim() === "" ? null : hash(envAdminToken.trim());
  }

  /**
   * Makes sure an admin token exists: REM_ADMIN_TOKEN if set, else a stored one.
   * Returns a new token's plaintext when one had to be generated (print it once).
   */
  async ensureAdmin(): Promise<string | null> {
    if (this.#envAdmin !== null) return null;
    await this.#reload();
    if (this.#records.some((r) => r.kind === "admin")) return null;
    const token = newToken();
    await this.#add({ id: randomBytes(4).toString("hex"), hash: hash(token), kind: "admin", created_at: new Date().toISOString(), label: "generated on first start" });
    return token;
  }

  /** Makes a tenant token; returns its plaintext (not stored) and id. */
  async createTenantToken(tenant: string, readOnly: boolean, label?: string): Promise<{ token: string; id: string }> {
    const t = tenantName(tenant);
    const token = newToken();
    const id = randomBytes(4).toString("hex");
    await this.#add({ id, hash: hash(token), kind: "tenant", tenant: t, read_only: readOnly, created_at: new Date().toISOString(), ...(label ? { label } : {}) });
    return { token, id };
  }

  /** Makes another admin token (e.g. to rotate); returns its plaintext and id. */
  async createAdminToken(label?: string): Promise<{ token: string; id: string }> {
    const token = newToken();
    const id = randomBytes(4).toString("hex");
    await this.#add({ id, hash: hash(token), kind: "admin", created_at: new Date().toISOString(), ...(label ? { label } : {}) });
    return { token, id };
  }

  async revoke(id: string): Promise<boolean> {
    await this.#reload();
    const before = this.#records.length;
    const kept = this.#records.filter((r) => r.id !== id);
    if (kept.length === before) return false;
    await this.#write(kept);
    return true;
  }

  async list(): Promise<Omit<TokenRecord, "hash">[]> {
    await this.#reload();
    return this.#records.map(({ hash: _h, ...rest }) => rest);
  }

  /**
   * The principal of a presented token, or null. Constant-time comparison of
   * hashes. A token created or revoked by another process takes effect within
   * a second (the file is re-checked at most that often).
   */
  async verify(token: string): Promise<Principal | null> {
    const now = Date.now();
    if (now - this.#checkedAt >= 1000) {
      this.#checkedAt = now;
      await this.#reload(); // also forgets every verified token
    } else {
      const cached = this.#verified.get(token);
      if (cached !== undefined) return cached;
    }
    const h = Buffer.from(hash(token), "hex");
    let found: Principal | null = null;
    if (this.#envAdmin !== null && timingSafeEqual(h, Buffer.from(this.#envAdmin, "hex"))) found = { kind: "admin", id: "env" };
    else {
      found = this.#match(h);
      if (found === null && now !== this.#checkedAt) {
        await this.#reload(); // an unknown token may have just been made by `rem token create`
        found = this.#match(h);
      }
    }
    if (found !== null && this.#verified.size < 10_000) this.#verified.set(token, found);
    return found;
  }

  #match(h: Buffer): Principal | null {
    for (const r of this.#records) {
      if (!timingSafeEqual(h, Buffer.from(r.hash, "hex"))) continue;
      if (r.kind === "admin") return { kind: "admin", id: r.id };
      return { kind: "tenant", id: r.id, tenant: tenantName(r.tenant!), readOnly: r.read_only === true };
    }
    return null;
  }

  async #reload(): Promise<void> {
    this.#verified.clear();
    const m = await stat(this.path).then((s) => s.mtimeMs, () => 0);
    if (m === this.#mtime) return;
    const file = await readJson<TokenFile>(this.path);
    if (file !== null && file.v !== 1) throw new RemError("REM_ERR_UNSUPPORTED_VERSION", `${this.path}: token file version ${String(file.v)} is not supported`);
    this.#records = file?.tokens ?? [];
    this.#mtime = m;
  }

  async #add(r: TokenRecord): Promise<void> {
    await this.#reload();
    await this.#write([...this.#records, r]);
  }

  async #write(records: TokenRecord[]): Promise<void> {
    await writeFileDurable(this.path, JSON.stringify({ v: 1, tokens: records } satisfies TokenFile, null, 2));
    this.#records = records;
    this.#mtime = await stat(this.path).then((s) => s.mtimeMs, () => -1);
  }
}
