/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.model;

import java.util.regex.Pattern;

/** Model ids are folder names, never paths: anything that could escape the models folder is refused. */
public final class ModelIds {
    private static final Pattern VALID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

    private ModelIds() {}

    /** Returns {@code id} if it is a valid model id, else throws with the reason. */
    public static String validate(String id) {
        if (id == null || id.isEmpty()) {
            throw new IllegalArgumentException("model id must not be empty");
        }
        if (id.contains("/") || id.contains("\\")) {
            throw new IllegalArgumentException("model id [" + id + "] must not contain path separators");
        }
        if (id.contains("..")) {
            throw new IllegalArgumentException("model id [" + id + "] must not contain [..]");
        }
        if (VALID.matcher(id).matches() == false) {
            throw new IllegalArgumentException(
                "model id [" + id + "] is invalid: use 1 to 128 letters, digits, '.', '_' or '-', starting with a letter or digit"
            );
        }
        return id;
    }
}
