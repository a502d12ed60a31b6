/** The coordinator's routing module. */
package io.dpcoord.routing;
