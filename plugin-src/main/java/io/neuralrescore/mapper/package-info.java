/*
 * SPDX-License-Identifier: Apache-2.0
 */
/**
 * Index-time field types.
 * <ul>
 * <li>{@link io.neuralrescore.mapper.MultiVectorFieldMapper}: the {@code multi_vector} field (token matrices in doc values).</li>
 * <li>{@link io.neuralrescore.mapper.MultiVectorValues}: parsing and validating its JSON values.</li>
 * </ul>
 */
package io.neuralrescore.mapper;
