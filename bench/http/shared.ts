/** Fixed credentials of the benchmark's throwaway data directories. */
export const BENCH_PASSPHRASE = "http benchmark passphrase";
export const BENCH_ADMIN = "rem_http_benchmark_admin_token_000000";
