/**
 * The coordinator's routing module: block hashing ({@link io.dpcoord.routing.BlockHasher}), the
 * prefix index and the decision rule ({@link io.dpcoord.routing.Router}, configured by {@link
 * io.dpcoord.routing.RouterConfig}), with no dependency on the wire protocol, ZMQ or metrics.
 */
package io.dpcoord.routing;
