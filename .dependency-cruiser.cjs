/**
 * The walls between Portico's parts (docs/architecture.md), checked by `npm run walls` in
 * `npm test`. A rule the code breaks is fixed in the code, never exempted here.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'model-is-pure',
      comment: 'model/ is pure translation: nothing outside itself, no I/O (node:net for address parsing, re2js for RE2 patterns)',
      severity: 'error',
      from: { path: '^src/model/', pathNot: '\\.test\\.ts$' },
      to: { pathNot: ['^src/model/', '^node:net$', '^net$', 'node_modules/re2js/'] },
    },
    {
      name: 'router-only-model',
      comment: 'router/ compiles and matches the model; it knows nothing of proxies, sources or Kubernetes',
      severity: 'error',
      from: { path: '^src/router/', pathNot: '\\.test\\.ts$' },
      to: { pathNot: ['^src/router/', '^src/model/', 'node_modules/re2js/'] },
    },
    {
      name: 'sources-never-proxy',
      comment: 'kube/ and manifests/ fill the store; they never reach into the data plane',
      severity: 'error',
      from: { path: '^src/(kube|manifests)/' },
      to: { path: '^src/proxy/' },
    },
    {
      name: 'proxy-never-sources',
      comment: 'proxy/ serves tables; it never knows where they came from (sources or control plane)',
      severity: 'error',
      from: { path: '^src/proxy/' },
      to: { path: '^src/(kube|manifests|control)/' },
    },
    {
      name: 'metrics-never-proxy',
      comment: 'metrics/ defines what is recorded; the proxy records into it, never the reverse',
      severity: 'error',
      from: { path: '^src/metrics/' },
      to: { path: '^src/proxy/' },
    },
    {
      name: 'one-yaml-library',
      comment: 'js-yaml is the one YAML parser at run time; `yaml` is a devDependency (tests, chart tooling)',
      severity: 'error',
      from: { path: '^src/', pathNot: '\\.test\\.ts$' },
      to: { path: 'node_modules/yaml/' },
    },
    {
      name: 'testing-only-in-tests',
      comment: 'src/testing/ holds fakes for unit tests; it is not in the npm package, so nothing else may import it',
      severity: 'error',
      from: { path: '^src/', pathNot: ['\\.test\\.ts$', '^src/testing/'] },
      to: { path: '^src/testing/' },
    },
    {
      name: 'no-cycles',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
