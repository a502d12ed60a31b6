/** The coordinator's sim module. */
package io.dpcoord.sim;
