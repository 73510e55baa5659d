// The bed's provider servers (moto, OpenBao, drongo, the Azure test server and each test's own
// small servers) listen on loopback, which namespaced SecretStores may not reach by default
// (src/providers/egress.ts). Controllers and CSI plugins started by tests and benchmarks allow-list
// it explicitly with this list; test/attacks/tenant-egress.test.ts runs without it.
export const BED_LOOPBACK_ALLOWED_HOSTS: readonly string[] = ['127.0.0.0/8', '::1', 'localhost'];
