import cliProgress from "cli-progress";

/**
 * A progress bar on stderr for long jobs, only when stderr is a terminal and the
 * job is large (pipes and logs get no control characters).
 */
export function progressBar(total: number, label: string, threshold = 1000): { increment(n: number): void; stop(): void } {
  if (!process.stderr.isTTY || total < threshold) return { increment: () => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar(
    { format: `${label} [{bar}] {percentage}% {value}/{total} {eta_formatted} left`, stream: process.stderr, hideCursor: true, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  return { increment: (n) => bar.increment(n), stop: () => bar.stop() };
}
