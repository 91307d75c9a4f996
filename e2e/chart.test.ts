/**
 * The Helm chart, rendered over a matrix of values: every document checked against the
 * Kubernetes schemas (kubernetes-models), targeted assertions on args, ports, security context
 * and RBAC, bad values rejected with readable messages, and every variant's container args
 * accepted by the real CLI.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { DaemonSet, Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { ConfigMap, Service, ServiceAccount } from 'kubernetes-models/v1';
import { IngressClass } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { NODE_FLAGS, repoRoot } from '../src/paths.js';
import { AHEAD_OF_CLI, buildRenderer, container, find, render, runnableArgs, schemaErrors, type Doc } from './lib/chart.js';
import { CLI } from './lib/portico.js';

const MODELS: Record<string, new (o: any) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment,
  'apps/v1/DaemonSet': DaemonSet,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'v1/ConfigMap': ConfigMap,
  'networking.k8s.io/v1/IngressClass': IngressClass,
  'rbac.authorization.k8s.io/v1/ClusterRole': ClusterRole,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': ClusterRoleBinding,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
};

function validateAll(docs: Doc[]): void {
  for (const d of docs) {
    if (d.kind === 'ServiceMonitor') {
      assert.equal(d.apiVersion, 'monitoring.coreos.com/v1');
      assert.equal(d.spec.endpoints[0].port, 'metrics');
      continue;
    }
    const Model = MODELS[`${d.apiVersion}/${d.kind}`];
    assert.ok(Model, `no schema for ${d.apiVersion} ${d.kind}`);
    assert.doesNotThrow(() => new Model(d).validate(), `${d.kind} ${d.metadata.name}`);
  }
}

/**
 * Runs the real CLI on the rendered args with --dry-run: the chart must only pass flags Portico
 * accepts ($(VAR) expanded as the kubelet does; see runnableArgs for the flags ahead of the CLI).
 */
function cliAccepts(args: string[]): Record<string, unknown> {
  const r = spawnSync(process.execPath, [CLI, ...runnableArgs(args), '--dry-run'], { encoding: 'utf8' });
  assert.equal(r.status, 0, `portico rejected the chart's args: ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

const VARIANTS: Record<string, object> = {
  defaults: {},
  'DaemonSet on the host network': { controller: { kind: 'DaemonSet', hostNetwork: true } },
  'NodePort with fixed ports': { controller: { service: { type: 'NodePort', externalTrafficPolicy: 'Local', nodePorts: { http: 30080, https: 30443 } } } },
  'namespace-scoped': { controller: { scope: { enabled: true, namespace: 'apps' } } },
  'autoscaling, PDB, ServiceMonitor, dashboard': {
    controller: {
      autoscaling: { enabled: true, minReplicas: 2, maxReplicas: 5 },
      podDisruptionBudget: { enabled: true, minAvailable: 1 },
      metrics: { serviceMonitor: { enabled: true, additionalLabels: { release: 'prom' } }, prometheusAnnotations: true, compat: 'ingress-nginx' },
      grafanaDashboard: { enabled: true },
      extraArgs: { 'default-ssl-certificate': 'ingress-system/wildcard', 'proxy-read-timeout': '120s' },
      image: { digest: `sha256:${'a'.repeat(64)}` },
    },
  },
  'hostPort without hostNetwork': { controller: { kind: 'DaemonSet', hostPort: { enabled: true } } },
  'extra volumes, mounts and init containers': {
    controller: {
      extraVolumes: [{ name: 'ca-bundle', configMap: { name: 'corp-ca' } }, { name: 'scratch', emptyDir: {} }],
      extraVolumeMounts: [{ name: 'ca-bundle', mountPath: '/etc/portico/ca', readOnly: true }, { name: 'scratch', mountPath: '/tmp' }],
      extraInitContainers: [{ name: 'wait-for-dns', image: 'registry.example.com/tools:1', command: ['/bin/true'] }],
      extraEnv: [{ name: 'NODE_EXTRA_CA_CERTS', value: '/etc/portico/ca/ca.crt' }],
    },
  },
  'admin port on the pod address, debug endpoints for all': { controller: { kind: 'DaemonSet', hostNetwork: true, admin: { bindAddress: '$(POD_IP)' }, debugEndpoints: 'all' } },
  'admin port on loopback, debug endpoints off': { controller: { admin: { bindAddress: '127.0.0.1' }, debugEndpoints: 'off', metrics: { service: { enabled: false } } } },
  'a self-built image': { controller: { image: { repository: 'registry.example.com/portico', tag: '0.1.0-dev', pullPolicy: 'Always' } } },
  'TCP and UDP services with TLS passthrough': {
    tcp: { '5432': 'db/postgres:5432', '1883': 'iot/mqtt:mqtt:PROXY', '2525': 'mail/smtp:25::PROXY' },
    udp: { '5353': 'kube-system/dns:53' },
    controller: { service: { type: 'NodePort', nodePorts: { tcp: { '5432': 30432 }, udp: { '5353': 30353 } } }, extraArgs: { 'enable-ssl-passthrough': 'true' } },
  },
  // docs/migrating.md: ingress-nginx still runs and owns the nginx IngressClass (and the status)
  'taking over the nginx class next to a running ingress-nginx': { controller: { ingressClass: 'nginx', ingressClassResource: { enabled: false, name: 'nginx', controllerValue: 'k8s.io/ingress-nginx' }, publishService: { enabled: false } } },
  // docs/migrating.md: ingress-nginx is gone, Portico's chart owns the nginx IngressClass
  'replacing ingress-nginx': { controller: { ingressClass: 'nginx', ingressClassResource: { name: 'nginx', controllerValue: 'k8s.io/ingress-nginx', default: true } } },
};

describe('Helm chart', () => {
  before(() => buildRenderer());

  for (const [name, values] of Object.entries(VARIANTS)) {
    test(`${name}: every document is valid and the args are accepted by portico`, () => {
      const docs = render(values);
      assert.ok(docs.length >= 8);
      validateAll(docs);
      cliAccepts(container(docs).args);
    });
  }

  test('defaults: Deployment args, ports, probes and a locked-down security context', () => {
    const docs = render();
    const dep = find(docs, 'Deployment')!;
    const c = container(docs);
    assert.deepEqual(c.args, [
      '--http-port=8080',
      '--https-port=8443',
      '--admin-port=10254',
      '--debug-endpoints=local',
      '--ingress-class=portico',
      '--controller-class=portico.dev/ingress-controller',
      '--election-id=portico-leader',
      '--publish-service=ingress-system/portico-controller',
      '--enable-gateway-api=true',
      '--gateway-controller-name=portico.dev/gateway-controller',
      '--enable-metrics=true',
      '--shutdown-grace-period=5s',
      '--shutdown-timeout=30s',
    ]);
    assert.deepEqual(c.ports.map((p: any) => [p.name, p.containerPort]), [['http', 8080], ['https', 8443], ['metrics', 10254]]);
    assert.deepEqual(c.env.map((e: any) => [e.name, e.valueFrom.fieldRef.fieldPath]), [['POD_NAME', 'metadata.name'], ['POD_NAMESPACE', 'metadata.namespace'], ['POD_IP', 'status.podIP']]);
    assert.equal(c.volumeMounts, undefined);
    assert.equal(dep.spec.template.spec.volumes, undefined);
    assert.equal(dep.spec.template.spec.initContainers, undefined);
    assert.equal(c.readinessProbe.httpGet.path, '/readyz');
    assert.equal(c.livenessProbe.httpGet.path, '/healthz');
    assert.deepEqual(c.securityContext, { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] } });
    const pod = dep.spec.template.spec;
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.equal(pod.securityContext.seccompProfile.type, 'RuntimeDefault');
    assert.ok(pod.terminationGracePeriodSeconds > 35, 'grace period covers --shutdown-grace-period + --shutdown-timeout');
    assert.equal(dep.spec.strategy.rollingUpdate.maxUnavailable, 0);
    const svc = find(docs, 'Service', 'portico-controller')!;
    assert.equal(svc.spec.type, 'LoadBalancer');
    assert.deepEqual(svc.spec.ports.map((p: any) => [p.name, p.port, p.targetPort]), [['http', 80, 'http'], ['https', 443, 'https']]);
    const ic = find(docs, 'IngressClass')!;
    assert.equal(ic.spec.controller, 'portico.dev/ingress-controller');
    assert.equal(ic.metadata.annotations, undefined);
  });

  test('defaults: RBAC is exactly what Portico uses', () => {
    const docs = render();
    const gw = 'gateway.networking.k8s.io';
    assert.deepEqual(find(docs, 'ClusterRole')!.rules, [
      { apiGroups: ['networking.k8s.io'], resources: ['ingressclasses'], verbs: ['list', 'watch'] },
      { apiGroups: [gw], resources: ['gatewayclasses'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [gw], resources: ['gatewayclasses/status'], verbs: ['update'] },
      { apiGroups: [''], resources: ['namespaces'], verbs: ['list', 'watch'] },
      { apiGroups: ['networking.k8s.io'], resources: ['ingresses'], verbs: ['list', 'watch'] },
      { apiGroups: ['networking.k8s.io'], resources: ['ingresses/status'], verbs: ['update'] },
      { apiGroups: [''], resources: ['services'], verbs: ['list', 'watch'] },
      { apiGroups: [''], resources: ['secrets'], verbs: ['list', 'watch'] },
      { apiGroups: [''], resources: ['configmaps'], verbs: ['list', 'watch'] },
      { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
      { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['create'] },
      { apiGroups: [gw], resources: ['gateways', 'httproutes', 'grpcroutes', 'tlsroutes', 'tcproutes', 'udproutes', 'referencegrants', 'backendtlspolicies'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [gw], resources: ['gateways/status', 'httproutes/status', 'grpcroutes/status', 'tlsroutes/status', 'tcproutes/status', 'udproutes/status', 'backendtlspolicies/status'], verbs: ['update'] },
    ]);
    const role = find(docs, 'Role', 'portico')!;
    assert.equal(role.metadata.namespace, 'ingress-system');
    assert.deepEqual(role.rules, [
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: ['portico-leader'], verbs: ['get', 'update'] },
      { apiGroups: [''], resources: ['services'], resourceNames: ['portico-controller'], verbs: ['get'] },
    ]);
    for (const b of [find(docs, 'ClusterRoleBinding')!, find(docs, 'RoleBinding')!]) assert.deepEqual(b.subjects, [{ kind: 'ServiceAccount', name: 'portico', namespace: 'ingress-system' }]);
  });

  test('DaemonSet on the host network: ClusterFirstWithHostNet, ports 80/443, root with NET_BIND_SERVICE only', () => {
    const docs = render(VARIANTS['DaemonSet on the host network']!);
    const ds = find(docs, 'DaemonSet')!;
    assert.equal(find(docs, 'Deployment'), undefined);
    assert.equal(ds.spec.template.spec.hostNetwork, true);
    assert.equal(ds.spec.template.spec.dnsPolicy, 'ClusterFirstWithHostNet');
    const c = container(docs);
    assert.ok(c.args.includes('--http-port=80') && c.args.includes('--https-port=443'));
    // Kubernetes makes an added capability effective for root only (no ambient capabilities), and
    // the image's node has no file capability (it could not start with all capabilities dropped):
    // so uid 0, every capability dropped but NET_BIND_SERVICE, no privilege escalation.
    assert.deepEqual(c.securityContext, { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: false, runAsUser: 0, capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] } });
    assert.equal(ds.spec.template.spec.securityContext.runAsUser, 65532, 'the pod default stays non-root');
  });

  test('host network on unprivileged ports stays non-root with no capability', () => {
    const c = container(render({ controller: { kind: 'DaemonSet', hostNetwork: true, hostNetworkPorts: { http: 8080, https: 8443 } } }));
    assert.deepEqual(c.securityContext, { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] } });
  });

  test('extraVolumes, extraVolumeMounts and extraInitContainers land in the pod spec', () => {
    const values = VARIANTS['extra volumes, mounts and init containers']! as { controller: Record<string, unknown> };
    const docs = render(values);
    const pod = find(docs, 'Deployment')!.spec.template.spec;
    assert.deepEqual(pod.volumes, values.controller.extraVolumes);
    assert.deepEqual(pod.initContainers, values.controller.extraInitContainers);
    const c = container(docs);
    assert.deepEqual(c.volumeMounts, values.controller.extraVolumeMounts);
    assert.deepEqual(c.env.at(-1), { name: 'NODE_EXTRA_CA_CERTS', value: '/etc/portico/ca/ca.crt' });
    assert.equal(c.securityContext.readOnlyRootFilesystem, true);
    const ds = find(render({ controller: { ...values.controller, kind: 'DaemonSet' } }), 'DaemonSet')!.spec.template.spec;
    assert.deepEqual([ds.volumes.length, ds.initContainers.length, ds.containers[0].volumeMounts.length], [2, 1, 2]);
  });

  test('controller.admin.bindAddress: no flag by default; the pod address via $(POD_IP); loopback probes with exec', () => {
    assert.ok(!container(render()).args.some((a: string) => a.startsWith('--admin-bind-address')), 'default: Portico decides');
    const pod = container(render(VARIANTS['admin port on the pod address, debug endpoints for all']!));
    assert.ok(pod.args.includes('--admin-bind-address=$(POD_IP)'));
    assert.ok(pod.env.some((e: any) => e.name === 'POD_IP' && e.valueFrom.fieldRef.fieldPath === 'status.podIP'), 'the kubelet expands $(POD_IP) from the env');
    assert.equal(pod.livenessProbe.httpGet.port, 'metrics', 'the pod address is reachable: HTTP probes stay');
    const lo = container(render(VARIANTS['admin port on loopback, debug endpoints off']!));
    assert.ok(lo.args.includes('--admin-bind-address=127.0.0.1'));
    for (const [probe, path] of [[lo.livenessProbe, '/healthz'], [lo.readinessProbe, '/readyz']] as const) {
      assert.equal(probe.httpGet, undefined);
      assert.deepEqual(probe.exec.command.slice(0, 2), ['/app/node', '-e']);
      assert.ok(probe.exec.command[2].includes(`fetch("http://127.0.0.1:10254${path}")`), probe.exec.command[2]);
      assert.ok(probe.timeoutSeconds >= 3, 'time for node to start');
    }
    const v6 = container(render({ controller: { admin: { bindAddress: '::1' }, metrics: { service: { enabled: false } } } }));
    assert.ok(v6.readinessProbe.exec.command[2].includes('http://[::1]:10254/readyz'));
    assert.throws(() => render({ controller: { admin: { bindAddress: '127.0.0.1' } } }), /keeps the admin port inside the pod.*controller\.metrics\.service\.enabled=false/s);
    assert.throws(() => render({ controller: { admin: { bindAddress: '127.0.0.1' }, metrics: { service: { enabled: false }, serviceMonitor: { enabled: true } } } }), /keeps the admin port inside the pod/);
    assert.doesNotThrow(() => render({ controller: { admin: { bindAddress: '127.0.0.1' }, metrics: { enabled: false } } }), 'no metrics, nothing to scrape');
  });

  test('controller.debugEndpoints renders --debug-endpoints: local by default, all, off (also as YAML false)', () => {
    const flag = (values: object): string[] => container(render(values)).args.filter((a: string) => a.startsWith('--debug-endpoints'));
    assert.deepEqual(flag({}), ['--debug-endpoints=local']);
    assert.deepEqual(flag({ controller: { debugEndpoints: 'all' } }), ['--debug-endpoints=all']);
    assert.deepEqual(flag({ controller: { debugEndpoints: 'off' } }), ['--debug-endpoints=off']);
    assert.deepEqual(flag({ controller: { debugEndpoints: false } }), ['--debug-endpoints=off'], 'an unquoted off in a values file');
    assert.deepEqual(AHEAD_OF_CLI, ['--admin-bind-address', '--debug-endpoints']);
  });

  test('taking over the nginx class next to ingress-nginx: its flags, no IngressClass (ingress-nginx owns it), no status writes', () => {
    const docs = render(VARIANTS['taking over the nginx class next to a running ingress-nginx']!);
    assert.equal(find(docs, 'IngressClass'), undefined);
    const args: string[] = container(docs).args;
    assert.ok(args.includes('--ingress-class=nginx') && args.includes('--controller-class=k8s.io/ingress-nginx'), args.join(' '));
    assert.ok(!args.some((a) => a.startsWith('--publish-service')), 'ingress-nginx keeps writing status until the switch');
    assert.ok(args.includes('--election-id=portico-leader'), "its own Lease, never ingress-nginx's");
    const config = cliAccepts(args);
    assert.equal(config.ingressClass, 'nginx');
    assert.equal(config.controllerClass, 'k8s.io/ingress-nginx');
    const notes = render(VARIANTS['taking over the nginx class next to a running ingress-nginx']!, { notes: true }).text;
    assert.match(notes, /It serves the Ingresses of class nginx \(an IngressClass object or not\), and of every\nIngressClass whose controller is k8s\.io\/ingress-nginx\./);
    assert.match(notes, /The chart creates no IngressClass/);
    assert.match(notes, /ingressClassName: nginx$/m);
  });

  test('replacing ingress-nginx: the chart creates the nginx IngressClass of controller k8s.io/ingress-nginx', () => {
    const docs = render(VARIANTS['replacing ingress-nginx']!);
    const ic = find(docs, 'IngressClass')!;
    assert.equal(ic.metadata.name, 'nginx');
    assert.equal(ic.spec.controller, 'k8s.io/ingress-nginx');
    assert.deepEqual(ic.metadata.annotations, { 'ingressclass.kubernetes.io/is-default-class': 'true' });
    const args: string[] = container(docs).args;
    assert.ok(args.includes('--ingress-class=nginx') && args.includes('--controller-class=k8s.io/ingress-nginx'));
    assert.ok(args.includes('--publish-service=ingress-system/portico-controller'));
    assert.doesNotMatch(render(VARIANTS['replacing ingress-nginx']!, { notes: true }).text, /creates no IngressClass/);
  });

  test('controller.image points the workload at a self-built image', () => {
    const c = container(render(VARIANTS['a self-built image']!));
    assert.equal(c.image, 'registry.example.com/portico:0.1.0-dev');
    assert.equal(c.imagePullPolicy, 'Always');
    assert.equal(container(render()).image, 'ghcr.io/portico-dev/portico:0.1.0', 'default: the chart appVersion');
  });

  test('hostPort without hostNetwork keeps unprivileged container ports and adds no capability', () => {
    const c = container(render(VARIANTS['hostPort without hostNetwork']!));
    assert.deepEqual(c.ports.slice(0, 2).map((p: any) => [p.containerPort, p.hostPort]), [[8080, 80], [8443, 443]]);
    assert.deepEqual(c.securityContext.capabilities, { drop: ['ALL'] });
  });

  test('NodePort: fixed node ports and externalTrafficPolicy', () => {
    const svc = find(render(VARIANTS['NodePort with fixed ports']!), 'Service', 'portico-controller')!;
    assert.equal(svc.spec.type, 'NodePort');
    assert.equal(svc.spec.externalTrafficPolicy, 'Local');
    assert.deepEqual(svc.spec.ports.map((p: any) => p.nodePort), [30080, 30443]);
  });

  test('namespace-scoped: a Role in the watched namespace; the ClusterRole keeps only the cluster-scoped kinds', () => {
    const docs = render(VARIANTS['namespace-scoped']!);
    assert.deepEqual(
      find(docs, 'ClusterRole')!.rules.map((r: { resources: string[] }) => r.resources.join(',')),
      ['ingressclasses', 'gatewayclasses', 'gatewayclasses/status', 'namespaces'],
    );
    const watch = find(docs, 'Role', 'portico-watch')!;
    assert.equal(watch.metadata.namespace, 'apps');
    assert.equal(watch.rules.length, 9);
    assert.ok(watch.rules.some((r: { resources: string[] }) => r.resources.includes('httproutes')));
    assert.ok(watch.rules.some((r: { resources: string[] }) => r.resources.includes('configmaps')));
    assert.equal(find(docs, 'RoleBinding', 'portico-watch')!.metadata.namespace, 'apps');
    assert.ok(container(docs).args.includes('--watch-namespace=apps'));
  });

  test('gatewayAPI: the GatewayClass only where the cluster serves the Gateway API; off drops the flag, the rules and the class', () => {
    assert.equal(find(render(), 'GatewayClass'), undefined, 'no Gateway API in the cluster: no GatewayClass (helm install would fail)');
    const withApi = render({ gatewayAPI: { controllerName: 'example.com/edge', gatewayClass: { name: 'edge' } } }, { apiVersions: ['gateway.networking.k8s.io/v1/GatewayClass'] });
    const cls = find(withApi, 'GatewayClass')!;
    assert.equal(cls.metadata.name, 'edge');
    assert.equal(cls.spec.controllerName, 'example.com/edge');
    assert.ok(container(withApi).args.includes('--gateway-controller-name=example.com/edge'));
    assert.equal(find(render({ gatewayAPI: { gatewayClass: { create: false } } }, { apiVersions: ['gateway.networking.k8s.io/v1/GatewayClass'] }), 'GatewayClass'), undefined);
    const off = render({ gatewayAPI: { enabled: false } }, { apiVersions: ['gateway.networking.k8s.io/v1/GatewayClass'] });
    assert.equal(find(off, 'GatewayClass'), undefined);
    assert.ok(container(off).args.includes('--enable-gateway-api=false'));
    assert.ok(!container(off).args.some((a: string) => a.startsWith('--gateway-controller-name')));
    assert.ok(!JSON.stringify(find(off, 'ClusterRole')!.rules).includes('gateway.networking.k8s.io'));
    assert.ok(!JSON.stringify(find(off, 'ClusterRole')!.rules).includes('namespaces'));
    cliAccepts(container(off).args);
    assert.match(schemaErrors({ gatewayAPI: { controllerName: 'no-slash' } }).join('\n'), /\/gatewayAPI\/controllerName must match pattern/);
  });

  test('autoscaling, PDB, ServiceMonitor, Prometheus annotations and the dashboard ConfigMap', () => {
    const docs = render(VARIANTS['autoscaling, PDB, ServiceMonitor, dashboard']!);
    assert.equal(find(docs, 'Deployment')!.spec.replicas, undefined, 'the HPA owns replicas');
    assert.equal(find(docs, 'HorizontalPodAutoscaler')!.spec.minReplicas, 2);
    assert.equal(find(docs, 'PodDisruptionBudget')!.spec.minAvailable, 1);
    assert.equal((find(docs, 'ServiceMonitor')!.metadata.labels as Record<string, string>).release, 'prom');
    assert.equal(find(docs, 'Deployment')!.spec.template.metadata.annotations['prometheus.io/scrape'], 'true');
    const dash = JSON.parse(find(docs, 'ConfigMap')!.data['portico.json']);
    assert.deepEqual(dash, JSON.parse(readFileSync(join(repoRoot, 'charts/portico/dashboards/portico.json'), 'utf8')));
    const c = container(docs);
    assert.equal(c.image, `ghcr.io/portico-dev/portico@sha256:${'a'.repeat(64)}`);
    assert.ok(c.args.includes('--metrics-compat=ingress-nginx'));
    assert.ok(c.args.includes('--default-ssl-certificate=ingress-system/wildcard'));
  });

  test('tcp and udp: the ConfigMaps, their flags, container and Service ports (node ports too), and a Role that names the two ConfigMaps', () => {
    const docs = render(VARIANTS['TCP and UDP services with TLS passthrough']!);
    assert.deepEqual(find(docs, 'ConfigMap', 'portico-tcp')!.data, { '1883': 'iot/mqtt:mqtt:PROXY', '2525': 'mail/smtp:25::PROXY', '5432': 'db/postgres:5432' });
    assert.deepEqual(find(docs, 'ConfigMap', 'portico-udp')!.data, { '5353': 'kube-system/dns:53' });
    const c = container(docs);
    assert.ok(c.args.includes('--tcp-services-configmap=ingress-system/portico-tcp'));
    assert.ok(c.args.includes('--udp-services-configmap=ingress-system/portico-udp'));
    assert.ok(c.args.includes('--enable-ssl-passthrough=true'));
    const config = cliAccepts(c.args);
    assert.deepEqual([config.tcpServicesConfigmap, config.udpServicesConfigmap, config.enableSslPassthrough], [{ namespace: 'ingress-system', name: 'portico-tcp' }, { namespace: 'ingress-system', name: 'portico-udp' }, true]);
    assert.deepEqual(c.ports.slice(3).map((p: any) => [p.name, p.containerPort, p.protocol]), [['1883-tcp', 1883, 'TCP'], ['2525-tcp', 2525, 'TCP'], ['5432-tcp', 5432, 'TCP'], ['5353-udp', 5353, 'UDP']]);
    assert.deepEqual(c.securityContext.capabilities, { drop: ['ALL'] }, 'ports >= 1024: no capability, non-root');
    const svc = find(docs, 'Service', 'portico-controller')!;
    assert.deepEqual(svc.spec.ports.slice(2).map((p: any) => [p.name, p.port, p.targetPort, p.protocol, p.nodePort]), [['1883-tcp', 1883, '1883-tcp', 'TCP', undefined], ['2525-tcp', 2525, '2525-tcp', 'TCP', undefined], ['5432-tcp', 5432, '5432-tcp', 'TCP', 30432], ['5353-udp', 5353, '5353-udp', 'UDP', 30353]]);
    // every ConfigMap is watched already (custom-headers): no rule of their own
    assert.ok(!JSON.stringify(find(docs, 'Role', 'portico')!.rules).includes('configmaps'));
    // watching another namespace: the Role in the release namespace names the two ConfigMaps
    const scoped = render({ ...VARIANTS['TCP and UDP services with TLS passthrough']!, controller: { scope: { enabled: true, namespace: 'apps' } } });
    assert.deepEqual(find(scoped, 'Role', 'portico')!.rules.at(-1), { apiGroups: [''], resources: ['configmaps'], resourceNames: ['portico-tcp', 'portico-udp'], verbs: ['list', 'watch'] });
    const sameNs = render({ ...VARIANTS['TCP and UDP services with TLS passthrough']!, controller: { scope: { enabled: true } } });
    assert.ok(!JSON.stringify(find(sameNs, 'Role', 'portico')!.rules).includes('configmaps'), 'the watched namespace is the release namespace: covered');
    // none by default: no ConfigMap, no flag
    const plain = render();
    assert.equal(find(plain, 'ConfigMap'), undefined);
    assert.ok(!container(plain).args.some((a: string) => /services-configmap/.test(a)));
  });

  test('tcp and udp: a port below 1024 runs as root with NET_BIND_SERVICE only; hostPort publishes them; a port of Portico\'s own fails', () => {
    const low = container(render({ udp: { '53': 'kube-system/dns:53' } }));
    assert.equal(low.securityContext.runAsUser, 0);
    assert.deepEqual(low.securityContext.capabilities, { drop: ['ALL'], add: ['NET_BIND_SERVICE'] });
    const published = container(render({ tcp: { '5432': 'db/postgres:5432' }, controller: { kind: 'DaemonSet', hostPort: { enabled: true } } }));
    assert.deepEqual(published.ports.at(-1), { name: '5432-tcp', containerPort: 5432, protocol: 'TCP', hostPort: 5432 });
    assert.throws(() => render({ tcp: { '8443': 'db/postgres:5432' } }), /tcp: port 8443 is Portico's own/);
    assert.match(schemaErrors({ tcp: { '5432': 'postgres:5432' } }).join('\n'), /\/tcp\/5432 must match pattern/);
    assert.match(schemaErrors({ tcp: { abc: 'db/postgres:5432' } }).join('\n'), /\/tcp property name must be valid/);
    assert.match(schemaErrors({ udp: { '53': 'kube-system/dns:53:PROXY' } }).join('\n'), /\/udp\/53 must match pattern/);
    assert.match(schemaErrors({ controller: { service: { nodePorts: { tcp: { '5432': 80 } } } } }).join('\n'), /\/controller\/service\/nodePorts\/tcp\/5432 must be >= 30000/);
  });

  test('bad values fail at install time with a readable message', () => {
    assert.deepEqual(schemaErrors({}), []);
    assert.match(schemaErrors({ controller: { kind: 'StatefulSet' } }).join('\n'), /\/controller\/kind must be equal to one of the allowed values \(Deployment, DaemonSet\)/);
    assert.match(schemaErrors({ controller: { service: { type: 'Ingress' } } }).join('\n'), /\/controller\/service\/type must be equal to one of the allowed values/);
    assert.match(schemaErrors({ controller: { replicas: 3 } }).join('\n'), /\/controller must NOT have additional properties: replicas/);
    assert.match(schemaErrors({ controller: { service: { nodePorts: { http: 80 } } } }).join('\n'), /\/controller\/service\/nodePorts\/http/);
    assert.match(schemaErrors({ controller: { image: { digest: 'latest' } } }).join('\n'), /\/controller\/image\/digest must match pattern/);
    assert.throws(() => render({ controller: { kind: 'StatefulSet' } }), /values do not match values.schema.json/);
    assert.match(schemaErrors({ controller: { extraVolumes: [{ configMap: { name: 'x' } }] } }).join('\n'), /\/controller\/extraVolumes\/0 must have required property 'name'/);
    assert.match(schemaErrors({ controller: { extraVolumeMounts: [{ name: 'x' }] } }).join('\n'), /\/controller\/extraVolumeMounts\/0 must have required property 'mountPath'/);
    assert.match(schemaErrors({ controller: { extraVolumeMounts: [{ name: 'x', mountPath: 'relative' }] } }).join('\n'), /\/controller\/extraVolumeMounts\/0\/mountPath must match pattern/);
    assert.match(schemaErrors({ controller: { extraInitContainers: [{ name: 'x' }] } }).join('\n'), /\/controller\/extraInitContainers\/0 must have required property 'image'/);
    assert.match(schemaErrors({ controller: { extraVolumes: {} } }).join('\n'), /\/controller\/extraVolumes must be array/);
    assert.match(schemaErrors({ controller: { debugEndpoints: 'none' } }).join('\n'), /\/controller\/debugEndpoints must be equal to one of the allowed values \(local, all, off, false\)/);
    assert.match(schemaErrors({ controller: { admin: { bindAddress: 'my-node' } } }).join('\n'), /\/controller\/admin\/bindAddress must match pattern/);
    assert.match(schemaErrors({ controller: { admin: { port: 1 } } }).join('\n'), /\/controller\/admin must NOT have additional properties: port/);
    for (const ok of ['', '0.0.0.0', '127.0.0.1', '::1', '::', 'fd00::1', '$(POD_IP)']) assert.deepEqual(schemaErrors({ controller: { admin: { bindAddress: ok } } }), [], ok);
  });

  test('NOTES.txt tells the user how to reach the controller', () => {
    assert.match(render({}, { notes: true }).text, /kubectl get service portico-controller -n ingress-system -o wide -w/);
    assert.match(render({ controller: { kind: 'DaemonSet', hostNetwork: true } }, { notes: true }).text, /http:\/\/<node-ip>:80/);
  });

  test('NOTES.txt: the routing table through kubectl port-forward to the admin port and curl, deploy/ or ds/', () => {
    const forward = (notes: string): string[] => notes.split('\n').filter((l) => l.includes('kubectl port-forward')).map((l) => l.trim());
    const dep = render({}, { notes: true }).text;
    assert.deepEqual(forward(dep), ['kubectl port-forward -n ingress-system deploy/portico-controller 10254']);
    assert.match(dep, /^ {2}curl http:\/\/127\.0\.0\.1:10254\/debug\/routes$/m);
    assert.match(dep, /^ {2}curl http:\/\/127\.0\.0\.1:10254\/debug\/backends$/m);
    assert.match(dep, /loopback peers only/);
    assert.doesNotMatch(dep, /portico routes|--admin-url/, 'no local CLI: users do not have one, the image has no shell');
    const ds = render({ controller: { kind: 'DaemonSet', metrics: { port: 9913 } } }, { notes: true }, ).text;
    assert.deepEqual(forward(ds), ['kubectl port-forward -n ingress-system ds/portico-controller 9913']);
    assert.match(ds, /curl http:\/\/127\.0\.0\.1:9913\/debug\/routes/);
    const other = render({ controller: { kind: 'DaemonSet' } }, { notes: true, namespace: 'edge', name: 'gw' }).text;
    assert.deepEqual(forward(other), ['kubectl port-forward -n edge ds/gw-portico-controller 10254']);
  });

  test('NOTES.txt follows debugEndpoints and admin.bindAddress', () => {
    const all = render({ controller: { debugEndpoints: 'all' } }, { notes: true }).text;
    assert.match(all, /debugEndpoints=all: \/debug\/\* answers anyone who reaches the port, through the metrics Service too/);
    assert.doesNotMatch(render({ controller: { debugEndpoints: 'all', metrics: { service: { enabled: false } } } }, { notes: true }).text, /metrics Service/);
    for (const off of ['off', false]) {
      const notes = render({ controller: { debugEndpoints: off } }, { notes: true }).text;
      assert.match(notes, /not served: controller\.debugEndpoints is off/);
      assert.doesNotMatch(notes, /port-forward -n|\/debug\/routes$/m);
    }
    const podIp = render({ controller: { admin: { bindAddress: '$(POD_IP)' } } }, { notes: true }).text;
    assert.match(podIp, /bound to \$\(POD_IP\) only, which kubectl port-forward \(it\s+connects to the pod's loopback\) cannot reach/);
    assert.doesNotMatch(podIp, /kubectl port-forward -n/);
    assert.match(render({ controller: { admin: { bindAddress: '$(POD_IP)' }, debugEndpoints: 'all' } }, { notes: true }).text, /From inside the cluster: curl http:\/\/<pod-ip>:10254\/debug\/routes/);
    for (const reachable of ['127.0.0.1', '0.0.0.0', '::'])
      assert.match(render({ controller: { admin: { bindAddress: reachable }, metrics: { service: { enabled: false } } } }, { notes: true }).text, /kubectl port-forward -n ingress-system deploy\/portico-controller 10254/, reachable);
  });
});

test('the Dockerfile passes dockerfilelint', () => {
  const r = spawnSync(process.execPath, [join(repoRoot, 'node_modules/dockerfilelint/bin/dockerfilelint'), '-o', 'json', join(repoRoot, 'Dockerfile')], { encoding: 'utf8' });
  const out = JSON.parse(r.stdout || '{}') as { totalIssues?: number; files?: { issues: { title: string; line: number }[] }[] };
  assert.equal(out.totalIssues, 0, JSON.stringify(out.files?.[0]?.issues));
  assert.equal(r.status, 0);
});

test('the image entrypoint and the portico bin run node with the same V8 flags as tests and benchmarks', () => {
  const docker = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
  assert.ok(docker.includes(`ENTRYPOINT ["/app/node", ${NODE_FLAGS.map((f) => JSON.stringify(f)).join(', ')}, "/app/dist/src/cli.js"]`), 'Dockerfile ENTRYPOINT');
  const shebang = readFileSync(join(repoRoot, 'src/cli.ts'), 'utf8').split('\n')[0];
  assert.equal(shebang, `#!/usr/bin/env -S node ${NODE_FLAGS.join(' ')}`);
  // the compiled bin keeps it, and runs
  const r = spawnSync(join(repoRoot, 'dist/src/cli.js'), ['--version'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});
