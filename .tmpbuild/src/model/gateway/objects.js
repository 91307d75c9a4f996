export const GATEWAY_GROUP = 'gateway.networking.k8s.io';
//# sourceMappingURL=objects.js.map