/**
 * Megatron-LM's text tokenizers as its data-parallel coordinator uses them: tokenize a text prompt
 * to hash it for routing, detokenize a finished request's generated tokens. Entry point: {@link
 * io.dpcoord.tokenizers.Tokenizers#fromSpec(String)}.
 */
package io.dpcoord.tokenizers;
