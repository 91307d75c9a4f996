/** The conformance suite's gRPC echo service (gateway_api_conformance.echo_basic.grpcecho.GrpcEcho), its messages passed as raw bytes. */
import type * as grpc from '@grpc/grpc-js';

/** One unary method of the echo service, without (de)serialisation. */
export const grpcEcho = (method: string): grpc.MethodDefinition<Buffer, Buffer> => ({
  path: `/gateway_api_conformance.echo_basic.grpcecho.GrpcEcho/${method}`,
  requestStream: false,
  responseStream: false,
  requestSerialize: (v: Buffer) => v,
  requestDeserialize: (v: Buffer) => v,
  responseSerialize: (v: Buffer) => v,
  responseDeserialize: (v: Buffer) => v,
});
