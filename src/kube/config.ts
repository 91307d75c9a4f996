/**
 * Finds the API server: in-cluster service account when running in a Pod, else --kubeconfig,
 * $KUBECONFIG or ~/.kube/config (with --kube-context). Fails with one line naming what was tried.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { ConfigError, type Config } from '../config.js';

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface Connection {
  readonly kc: KubeConfig;
  /** Where the config came from, for the start-up log line. */
  readonly source: string;
  /** The controller's namespace: POD_NAMESPACE, else the service account's, else the context's, else "default". */
  readonly namespace: string;
}

export function connect(config: Config): Connection {
  const kc = new KubeConfig();
  const tried: string[] = [];
  let source = '';
  const explicit = config.kubeconfig || config.env.KUBECONFIG.split(':').find((p) => p !== '') || '';
  if (!config.kubeconfig && config.env.KUBERNETES_SERVICE_HOST && existsSync(join(SA_DIR, 'token'))) {
    kc.loadFromCluster();
    source = 'in-cluster service account';
  } else {
    if (!config.kubeconfig) tried.push('in-cluster config (KUBERNETES_SERVICE_HOST and a service account token)');
    const file = explicit || (config.env.HOME ? join(config.env.HOME, '.kube', 'config') : '');
    if (file === '' || !existsSync(file)) {
      tried.push(file === '' ? '~/.kube/config (no $HOME)' : file);
      throw new ConfigError(`no usable Kubernetes configuration (tried ${tried.join(', ')}); give --kubeconfig, or --manifests for standalone mode`);
    }
    try {
      kc.loadFromFile(file);
    } catch (err) {
      throw new ConfigError(`cannot read kubeconfig ${file}: ${(err as Error).message.split('\n')[0]}`);
    }
    source = file;
    if (config.kubeContext) {
      if (!kc.getContextObject(config.kubeContext)) throw new ConfigError(`--kube-context ${config.kubeContext}: no such context in ${file} (has ${kc.getContexts().map((c) => c.name).join(', ') || 'none'})`);
      kc.setCurrentContext(config.kubeContext);
    }
  }
  if (!kc.getCurrentCluster()) throw new ConfigError(`kubeconfig ${source} has no cluster for context ${JSON.stringify(kc.getCurrentContext())}`);
  const saNs = source.startsWith('in-cluster') && existsSync(join(SA_DIR, 'namespace')) ? readFileSync(join(SA_DIR, 'namespace'), 'utf8').trim() : '';
  const namespace = config.podNamespace || saNs || kc.getContextObject(kc.getCurrentContext())?.namespace || 'default';
  return { kc, source, namespace };
}
