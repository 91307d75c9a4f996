/**
 * Finds the API server: in-cluster service account when running in a Pod, else --kubeconfig,
 * $KUBECONFIG or ~/.kube/config (with --kube-context). Fails with one line naming what was tried.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../config.js';
import { inCluster, NeedsPlugin, readKubeconfig, viaClientNode } from './credentials.js';
const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
export async function connect(config, saDir = SA_DIR) {
    const tried = [];
    const explicit = config.kubeconfig || config.env.KUBECONFIG.split(':').find((p) => p !== '') || '';
    if (!config.kubeconfig && config.env.KUBERNETES_SERVICE_HOST && existsSync(join(saDir, 'token'))) {
        let creds;
        try {
            creds = inCluster(saDir, config.env);
        }
        catch (err) {
            throw new ConfigError(`cannot read the in-cluster service account in ${saDir}: ${err.message.split('\n')[0]}`);
        }
        const saNs = existsSync(join(saDir, 'namespace')) ? readFileSync(join(saDir, 'namespace'), 'utf8').trim() : '';
        return { creds, source: 'in-cluster service account', namespace: config.podNamespace || saNs || 'default' };
    }
    if (!config.kubeconfig)
        tried.push('in-cluster config (KUBERNETES_SERVICE_HOST and a service account token)');
    const file = explicit || (config.env.HOME ? join(config.env.HOME, '.kube', 'config') : '');
    if (file === '' || !existsSync(file)) {
        tried.push(file === '' ? '~/.kube/config (no $HOME)' : file);
        throw new ConfigError(`no usable Kubernetes configuration (tried ${tried.join(', ')}); give --kubeconfig, or --manifests for standalone mode`);
    }
    let kubeconfig;
    try {
        kubeconfig = readKubeconfig(file);
    }
    catch (err) {
        throw new ConfigError(`cannot read kubeconfig ${file}: ${err.message.split('\n')[0]}`);
    }
    const context = config.kubeContext || kubeconfig.currentContext;
    if (config.kubeContext && !kubeconfig.contexts.includes(config.kubeContext)) {
        throw new ConfigError(`--kube-context ${config.kubeContext}: no such context in ${file} (has ${kubeconfig.contexts.join(', ') || 'none'})`);
    }
    let selected;
    try {
        selected = kubeconfig.select(context);
    }
    catch (err) {
        if (!(err instanceof NeedsPlugin))
            throw new ConfigError(`kubeconfig ${file}: ${err.message.split('\n')[0]}`);
        // exec and auth-provider credential plugins: client-node knows them all
        try {
            selected = await viaClientNode(file, config.kubeContext);
        }
        catch (e) {
            throw new ConfigError(`cannot read kubeconfig ${file}: ${e.message.split('\n')[0]}`);
        }
    }
    return { creds: selected.creds, source: file, namespace: config.podNamespace || selected.namespace || 'default' };
}
//# sourceMappingURL=config.js.map