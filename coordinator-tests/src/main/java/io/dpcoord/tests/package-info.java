/** The coordinator's tests module. */
package io.dpcoord.tests;
