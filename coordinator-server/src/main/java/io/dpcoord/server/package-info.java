/** The coordinator's server module. */
package io.dpcoord.server;
