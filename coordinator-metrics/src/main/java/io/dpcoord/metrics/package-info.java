/** The coordinator's metrics module. */
package io.dpcoord.metrics;
