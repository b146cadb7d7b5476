import { parentPort, workerData } from "node:worker_threads";
import { bruteForce, type TruthJob } from "./truth-kernel.js";

/** Runs one slice of the ground truth (see ground-truth.ts) and posts the ids back. */
const job = workerData as TruthJob;
const r = bruteForce(job);
parentPort!.postMessage(r, [r.all.buffer, r.filtered.buffer]);
