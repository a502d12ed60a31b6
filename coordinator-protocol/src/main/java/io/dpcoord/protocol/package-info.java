/** The coordinator's protocol module. */
package io.dpcoord.protocol;
