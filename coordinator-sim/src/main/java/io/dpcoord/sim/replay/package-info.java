/**
 * Trace replay: the routing module driven from a JSON Lines trace, one decision per submit ({@code
 * ./coordinator route-replay}, docs/spec/ROUTING.md "Trace replay").
 */
package io.dpcoord.sim.replay;
