/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.integ;

import com.carrotsearch.randomizedtesting.annotations.Name;
import com.carrotsearch.randomizedtesting.annotations.ParametersFactory;

import org.opensearch.test.rest.yaml.ClientYamlTestCandidate;
import org.opensearch.test.rest.yaml.OpenSearchClientYamlSuiteTestCase;

/** Runs the YAML REST tests of {@code rest-api-spec/test} against the node given by {@code -Dtests.rest.cluster}. */
public class NeuralRescoreYamlIT extends OpenSearchClientYamlSuiteTestCase {
    public NeuralRescoreYamlIT(@Name("yaml") ClientYamlTestCandidate testCandidate) {
        super(testCandidate);
    }

    @ParametersFactory
    public static Iterable<Object[]> parameters() throws Exception {
        return OpenSearchClientYamlSuiteTestCase.createParameters();
    }
}
