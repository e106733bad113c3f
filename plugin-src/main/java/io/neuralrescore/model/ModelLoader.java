/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.model;

import java.io.IOException;
import java.nio.file.Path;

/** Turns a validated manifest and its folder into a runnable model. The seam tests swap for fakes. */
@FunctionalInterface
public interface ModelLoader {
    LoadedModel load(ModelManifest manifest, Path folder) throws IOException;
}
