import { z } from "zod";

/** Headers every tenant route takes (other headers pass through). */
export const tenantHeaders = z.looseObject({
  "x-tenant-id": z.string().describe("The tenant: 1-63 of a-z 0-9 _ -, starting with a letter or digit"),
});

export const minSeqQuery = {
  min_seq: z.coerce.number().int().min(0).optional().describe("Wait (bounded) until the projections reflect this commit: read-your-writes across nodes"),
};

/** Sets the header telling which commit a response reflects. */
export const SEQ_HEADER = "x-rem-seq";

/** The content type of JSON a route sends pre-serialised (what fastify sets when it serialises). */
export const JSON_UTF8 = "application/json; charset=utf-8";
