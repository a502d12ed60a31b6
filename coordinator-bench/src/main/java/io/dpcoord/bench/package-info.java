/** The coordinator's bench module. */
package io.dpcoord.bench;
