/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.model;

import org.opensearch.test.OpenSearchTestCase;

/** Model ids are folder names: anything that could leave the models folder, or is not a plain name, is refused. */
public class ModelIdsTests extends OpenSearchTestCase {

    public void testValidIds() {
        for (String id : new String[] {
            "a",
            "7",
            "my-ce",
            "ms_marco.MiniLM-L6-v2",
            "all-minilm-l6-v2",
            "A.b_c-D",
            "x".repeat(128),
            "model.onnx",
            "v1.2" }) {
            assertSame(id, ModelIds.validate(id));
        }
    }

    public void testRandomValidIds() {
        for (int i = 0; i < 100; i++) {
            String id = randomAlphaOfLength(1) + randomFrom("", randomAlphaOfLengthBetween(1, 20), "-v" + between(0, 9), "_q", ".x");
            assertSame(id, ModelIds.validate(id));
        }
    }

    public void testEmpty() {
        assertEquals("model id must not be empty", expectThrows(IllegalArgumentException.class, () -> ModelIds.validate("")).getMessage());
        assertEquals("model id must not be empty", expectThrows(IllegalArgumentException.class, () -> ModelIds.validate(null)).getMessage());
    }

    public void testSeparators() {
        for (String id : new String[] { "a/b", "/etc", "models/", "a\\b", "\\\\host\\share", "../x", "..\\x" }) {
            assertEquals(
                "model id [" + id + "] must not contain path separators",
                expectThrows(IllegalArgumentException.class, () -> ModelIds.validate(id)).getMessage()
            );
        }
    }

    public void testDotDot() {
        for (String id : new String[] { "..", "a..b", "model..", "..." }) {
            assertEquals(
                "model id [" + id + "] must not contain [..]",
                expectThrows(IllegalArgumentException.class, () -> ModelIds.validate(id)).getMessage()
            );
        }
    }

    public void testBadCharactersAndLength() {
        String tooLong = "x".repeat(129);
        for (String id : new String[] { ".hidden", "-dash", "_under", "a b", "a:b", "ü", "a\u0000b", "a*", "\t", tooLong }) {
            assertEquals(
                "model id ["
                    + id
                    + "] is invalid: use 1 to 128 letters, digits, '.', '_' or '-', starting with a letter or digit",
                expectThrows(IllegalArgumentException.class, () -> ModelIds.validate(id)).getMessage()
            );
        }
    }
}
