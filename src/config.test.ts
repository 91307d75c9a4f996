import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, FLAGS, fieldOf, parseArgs, type Command, type Config, type FlagDef } from './config.js';

const configOf = (args: string[], env: Record<string, string> = {}): Config => {
  const c: Command = parseArgs(args, env);
  assert.ok(c.kind === 'run' || c.kind === 'check', c.kind);
  return c.config;
};
const fails = (args: string[], pattern: RegExp): void => assert.throws(() => parseArgs(args, {}), (err: Error) => err instanceof ConfigError && pattern.test(err.message) && !err.message.includes('\n'));

/**
 * Every Config field, written out once: the compiler checks this list against the type derived
 * from the flag table (a missing or extra key does not compile), the test against what parseArgs builds.
 */
const FIELDS: Record<keyof Config, true> = {
  manifests: true, kubeconfig: true, kubeContext: true, watchNamespaces: true, publishService: true, publishStatusAddress: true, updateStatus: true,
  electionId: true, env: true, bindAddress: true, adminBindAddress: true, debugEndpoints: true, httpPort: true, httpsPort: true, adminPort: true,
  ingressClass: true, controllerClass: true, watchWithoutClass: true, defaultBackendService: true, allowExternalNameServices: true,
  externalNameDeniedCidrs: true, defaultSslCertificate: true, sslRedirect: true, enableGatewayApi: true, gatewayControllerName: true, crdRecheckInterval: true, unsupportedAnnotations: true, httpsRedirectPort: true, hsts: true, tls: true,
  proxyConnectTimeout: true, proxyReadTimeout: true, proxyNextUpstreamTries: true, proxyNextUpstream: true, loadBalance: true, proxySendTimeout: true, proxyNextUpstreamTimeout: true, mirrorMaxInFlight: true, mirrorTimeout: true, mirrorBodyBuffer: true,
  proxyBodySize: true, upstreamMaxFails: true, upstreamFailTimeout: true, clientHeaderTimeout: true, clientBodyTimeout: true,
  keepAliveTimeout: true, maxConnections: true, reusePort: true, maxHeaders: true, http1Server: true, allowUnderscoresInHeaders: true, upgradeIdleTimeout: true,
  http2MaxConcurrentStreams: true, sslHandshakeTimeout: true, trustedProxies: true, useProxyProtocol: true, shutdownGracePeriod: true,
  tcpServicesConfigmap: true, udpServicesConfigmap: true, enableSslPassthrough: true, proxyStreamTimeout: true, udpMaxFlows: true,
  shutdownTimeout: true, accessLog: true, accessLogFormat: true, logLevel: true, workers: true, enableMetrics: true, metricsCompat: true,
  podNamespace: true, podName: true, sourceRanges: true, limitReqStatusCode: true, limitConnStatusCode: true, addHeaders: true, proxySetHeaders: true,
};

test('the fields parseArgs builds are exactly the Config type: fieldOf at run time names what the type derives', () => {
  const c = configOf([]);
  assert.deepEqual(Object.keys(c).sort(), Object.keys(FIELDS).sort());
  assert.ok(Object.isFrozen(c));
  const named = (Object.entries(FLAGS) as [string, FlagDef][]).map(([n, d]) => fieldOf(n, d)).filter((f) => f !== null);
  assert.equal(new Set(named).size, named.length, 'two flags fill one field');
  for (const f of named) assert.ok(f in FIELDS, f);
});

test('the parsed types are the ones modules use (compile-time checks: each line below must fail to compile)', () => {
  const c = configOf([]);
  // @ts-expect-error a port is a number
  const port: string = c.httpPort;
  // @ts-expect-error --log-level is one of its choices
  const level: Config['logLevel'] = 'verbose';
  // @ts-expect-error --debug-endpoints is one of its choices
  const debug: Config['debugEndpoints'] = 'none';
  // @ts-expect-error the --hsts-* flags only feed the derived hsts header
  const maxAge: unknown = c.hstsMaxAge;
  // @ts-expect-error cidrs are a list
  const cidrs: string = c.trustedProxies;
  // @ts-expect-error a namespace list is a list
  const namespaces: string = c.watchNamespaces;
  assert.ok([port, level, debug, maxAge, cidrs, namespaces].length === 6);
});

test('every default parses, and the values are the documented ones', () => {
  const c = configOf([], { HOME: '/home/p', POD_NAMESPACE: 'sys', POD_NAME: 'p-1' });
  assert.equal(c.manifests, '');
  assert.equal(c.bindAddress, '0.0.0.0');
  assert.equal(c.adminBindAddress, '0.0.0.0');
  assert.equal(c.debugEndpoints, 'local');
  assert.equal(c.hsts, 'max-age=31536000; includeSubDomains');
  assert.deepEqual(c.tls, { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3', ciphers: FLAGS['ssl-ciphers'].default });
  assert.deepEqual(c.watchNamespaces, []);
  assert.equal(c.proxyReadTimeout, 60_000);
  assert.equal(c.proxyBodySize, 1024 * 1024);
  assert.equal(c.logLevel, 'info');
  assert.equal(c.env.HOME, '/home/p');
  assert.equal(c.podNamespace, 'sys');
  assert.equal(c.podName, 'p-1');
});

test('derived fields: hsts, tls, adminBindAddress', () => {
  assert.equal(configOf(['--hsts=false', '--hsts-max-age', '5']).hsts, null);
  assert.equal(configOf(['--hsts-max-age', '5', '--hsts-include-subdomains=false', '--hsts-preload']).hsts, 'max-age=5; preload');
  assert.deepEqual(configOf(['--ssl-protocols', 'TLSv1.3', '--ssl-ciphers', 'X']).tls, { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3', ciphers: 'X' });
  assert.equal(configOf(['--bind-address', '127.0.0.1']).adminBindAddress, '127.0.0.1');
  const both = configOf(['--bind-address', '::', '--admin-bind-address', '127.0.0.1']);
  assert.deepEqual([both.bindAddress, both.adminBindAddress], ['::', '127.0.0.1']);
});

test('flag fields keep their names and values: renamed fields, lists, choices', () => {
  const c = configOf(['--watch-namespace', 'a, b', '--watch-ingress-without-class', '--publish-status-address', '10.0.0.1,lb.example.com', '--debug-endpoints=off', '--access-log-format', 'text', '--publish-service', 'sys/lb']);
  assert.deepEqual(c.watchNamespaces, ['a', 'b']);
  assert.equal(c.watchWithoutClass, true);
  assert.deepEqual(c.publishStatusAddress, ['10.0.0.1', 'lb.example.com']);
  assert.equal(c.debugEndpoints, 'off');
  assert.equal(c.accessLogFormat, 'text');
  assert.deepEqual(c.publishService, { namespace: 'sys', name: 'lb' });
});

test('addresses are IP addresses, checked at parse time', () => {
  for (const ok of ['0.0.0.0', '127.0.0.1', '::', '::1', 'fd00::2', '::ffff:127.0.0.1']) {
    assert.equal(configOf(['--bind-address', ok]).bindAddress, ok);
    assert.equal(configOf(['--admin-bind-address', ok, '--admin-port', '0']).adminBindAddress, ok);
  }
  for (const flag of ['--bind-address', '--admin-bind-address']) {
    for (const bad of ['999.1.1.1', 'localhost', 'my-node', '10.0.0.1/8', '1.2.3', '']) fails([`${flag}=${bad}`], new RegExp(`^invalid value "${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}" for ${flag}: expected an IP address`));
  }
  fails(['--publish-status-address', '10.0.0.1,not a name'], /^invalid value .* for --publish-status-address: "not a name" is neither an IP address nor a DNS name$/);
  fails(['--trusted-proxies', '10.0.0.0/33'], /for --trusted-proxies: "10.0.0.0\/33" has an invalid prefix length/);
  fails(['--external-name-denied-cidrs', 'example.com'], /is not an IP address or CIDR/);
  fails(['--watch-namespace', 'a,B_c'], /^invalid value "a,B_c" for --watch-namespace: "B_c" is not a namespace name$/);
});

test('an empty --manifests is an error, not Kubernetes mode', () => {
  fails(['--manifests='], /^invalid value "" for --manifests: expected a file or directory$/);
  fails(['--manifests', ''], /^invalid value "" for --manifests: expected a file or directory$/);
  assert.equal(configOf(['--manifests', 'x']).manifests, 'x');
});

test('ports: range, and two listeners on one port and address', () => {
  fails(['--admin-port', '65536'], /for --admin-port: expected a port number from 0 to 65535/);
  fails(['--http-port', '10254'], /^--http-port and --admin-port are both 10254 on 0\.0\.0\.0: each listener needs its own port$/);
  fails(['--https-port', '8080'], /^--http-port and --https-port are both 8080/);
  fails(['--bind-address', '127.0.0.1', '--admin-bind-address', '::', '--admin-port', '8080'], /--http-port and --admin-port are both 8080 on 127\.0\.0\.1 and ::/);
  // different addresses, or 0 (any free port), do not collide
  assert.equal(configOf(['--bind-address', '127.0.0.1', '--admin-bind-address', '127.0.0.2', '--admin-port', '8080']).adminPort, 8080);
  assert.equal(configOf(['--http-port', '0', '--https-port', '0', '--admin-port', '0']).httpPort, 0);
});

test('--udp-max-flows: a bound that admits at least one flow', () => {
  assert.equal(configOf([]).udpMaxFlows, 4096);
  assert.equal(configOf(['--udp-max-flows', '2']).udpMaxFlows, 2);
  fails(['--udp-max-flows', '0'], /^invalid value "0" for --udp-max-flows: expected a whole number of at least 1$/);
  fails(['--udp-max-flows', '-1'], /for --udp-max-flows: expected a whole number of at least 1/);
});

test('choice flags: their values only', () => {
  fails(['--debug-endpoints', 'loopback'], /^invalid value "loopback" for --debug-endpoints: expected local, all or off$/);
  fails(['--log-level', 'verbose'], /expected trace, debug, info, warn, error or fatal/);
  fails(['--metrics-compat', 'nginx'], /expected none or ingress-nginx/);
  fails(['--access-log-format', 'xml'], /expected json or text/);
});

test('--proxy-next-upstream: nginx\'s conditions, deduplicated in a fixed order; off alone wins; anything else is a flag error', () => {
  assert.deepEqual(configOf([]).proxyNextUpstream, ['error', 'timeout']);
  assert.deepEqual(configOf(['--proxy-next-upstream', 'non_idempotent http_502  error http_502']).proxyNextUpstream, ['error', 'http_502', 'non_idempotent']);
  assert.deepEqual(configOf(['--proxy-next-upstream=off http_503']).proxyNextUpstream, ['off']);
  fails(['--proxy-next-upstream', 'error http_418'], /^invalid value "error http_418" for --proxy-next-upstream: expected conditions among error, timeout/);
  fails(['--proxy-next-upstream', ''], /--proxy-next-upstream: expected conditions/);
});

test('--add-headers and --proxy-set-headers name ConfigMaps', () => {
  const c = configOf(['--add-headers', 'ingress-system/add-headers', '--proxy-set-headers=ingress-system/proxy-headers']);
  assert.deepEqual([c.addHeaders, c.proxySetHeaders], [{ namespace: 'ingress-system', name: 'add-headers' }, { namespace: 'ingress-system', name: 'proxy-headers' }]);
  assert.deepEqual([configOf([]).addHeaders, configOf([]).proxySetHeaders], [undefined, undefined]);
  fails(['--add-headers', 'no-namespace'], /expected namespace\/name/);
});
