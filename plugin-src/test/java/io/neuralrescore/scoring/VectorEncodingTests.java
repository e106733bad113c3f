/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.scoring;

import org.apache.lucene.document.LateInteractionField;
import org.apache.lucene.util.BytesRef;
import org.opensearch.test.OpenSearchTestCase;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Every encoding: bytes per token, the stored layout, round-trip error bounds on random data, and the errors of bad
 * input. {@code float} must be byte for byte Lucene's {@link LateInteractionField} format.
 */
public class VectorEncodingTests extends OpenSearchTestCase {

    /** Random token matrix; components spread over several magnitudes, some exact zeros. */
    static float[][] randomMatrix(int tokens, int dims) {
        float[][] m = new float[tokens][dims];
        for (float[] row : m) {
            float magnitude = randomFrom(1e-3f, 0.1f, 1f, 30f);
            for (int d = 0; d < dims; d++) {
                row[d] = rarely() ? 0f : (randomFloat() * 2 - 1) * magnitude;
            }
        }
        return m;
    }

    private static BytesRef offsetCopy(byte[] bytes) {
        // decode must honour BytesRef offsets (doc values hand out slices of a shared buffer)
        int pad = randomIntBetween(0, 7);
        byte[] shifted = new byte[bytes.length + pad + 3];
        System.arraycopy(bytes, 0, shifted, pad, bytes.length);
        return new BytesRef(shifted, pad, bytes.length);
    }

    public void testBytesPerToken() {
        assertEquals(4 * 384, VectorEncoding.FLOAT.bytesPerToken(384));
        assertEquals(2 * 384, VectorEncoding.FLOAT16.bytesPerToken(384));
        assertEquals(4 + 384, VectorEncoding.INT8.bytesPerToken(384));
        assertEquals(48, VectorEncoding.BIT.bytesPerToken(384));
        assertEquals(16, VectorEncoding.BIT.bytesPerToken(128));
        assertEquals(2, VectorEncoding.BIT.bytesPerToken(9));
        assertEquals(1, VectorEncoding.BIT.bytesPerToken(1));
        for (VectorEncoding e : VectorEncoding.values()) {
            int dims = randomIntBetween(1, 700);
            int tokens = randomIntBetween(1, 20);
            byte[] bytes = e.encode(randomMatrix(tokens, dims), dims);
            assertEquals(e + " " + dims, 4 + tokens * e.bytesPerToken(dims), bytes.length);
            assertEquals("dimension header", dims, ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getInt());
        }
    }

    public void testJsonNames() {
        for (VectorEncoding e : VectorEncoding.values()) {
            assertSame(e, VectorEncoding.fromString(e.jsonName()));
        }
        assertEquals("float16", VectorEncoding.FLOAT16.jsonName());
        IllegalArgumentException e = expectThrows(IllegalArgumentException.class, () -> VectorEncoding.fromString("FLOAT"));
        assertEquals("unknown encoding [FLOAT], expected one of [float, float16, int8, bit]", e.getMessage());
    }

    public void testFloatIsLuceneLateInteractionFieldFormat() {
        for (int run = 0; run < 20; run++) {
            int dims = randomIntBetween(1, 300);
            float[][] m = randomMatrix(randomIntBetween(1, 30), dims);
            byte[] ours = VectorEncoding.FLOAT.encode(m, dims);
            BytesRef lucene = LateInteractionField.encode(m);
            assertEquals(lucene, new BytesRef(ours));
            assertArrayEquals(m, LateInteractionField.decode(offsetCopy(ours)));
            MultiVector decoded = VectorEncoding.FLOAT.decode(offsetCopy(lucene.bytes));
            assertFalse(decoded.isBits());
            assertEquals(dims, decoded.dims());
            assertArrayEquals("float round trip is exact", m, decoded.floats());
        }
    }

    public void testFloat16RoundTripError() {
        for (int run = 0; run < 20; run++) {
            int dims = randomIntBetween(1, 400);
            float[][] m = randomMatrix(randomIntBetween(1, 30), dims);
            float[][] back = VectorEncoding.FLOAT16.decode(offsetCopy(VectorEncoding.FLOAT16.encode(m, dims))).floats();
            for (int t = 0; t < m.length; t++) {
                for (int d = 0; d < dims; d++) {
                    float x = m[t][d];
                    // half precision: 11 significant bits (relative error <= 2^-11) down to the smallest normal
                    // 2^-14, below it subnormals with absolute step 2^-24 (error <= 2^-25)
                    double bound = Math.max(Math.abs(x) * Math.pow(2, -11), Math.pow(2, -25));
                    assertTrue(x + " -> " + back[t][d], Math.abs(x - back[t][d]) <= bound);
                    assertEquals(Float.float16ToFloat(Float.floatToFloat16(x)), back[t][d], 0f);
                }
            }
        }
    }

    public void testInt8RoundTripError() {
        for (int run = 0; run < 20; run++) {
            int dims = randomIntBetween(1, 400);
            float[][] m = randomMatrix(randomIntBetween(1, 30), dims);
            float[][] back = VectorEncoding.INT8.decode(offsetCopy(VectorEncoding.INT8.encode(m, dims))).floats();
            for (int t = 0; t < m.length; t++) {
                float max = 0f;
                for (float x : m[t]) {
                    max = Math.max(max, Math.abs(x));
                }
                double step = max / 127.0; // per-token scale
                for (int d = 0; d < dims; d++) {
                    // rounding to the nearest step: at most half a step, plus float rounding of scale * q
                    double bound = step / 2 + Math.abs(m[t][d]) * 1e-6 + 1e-12;
                    assertTrue(m[t][d] + " -> " + back[t][d] + " step " + step, Math.abs(m[t][d] - back[t][d]) <= bound);
                }
            }
        }
    }

    public void testInt8Layout() {
        float[][] m = { { 0.3f, -1f, 0.25f }, { 0f, 0f, 0f } };
        ByteBuffer b = ByteBuffer.wrap(VectorEncoding.INT8.encode(m, 3)).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(3, b.getInt());
        assertEquals(1f / 127f, b.getFloat(), 0f);
        assertEquals(38, b.get()); // round(0.3 * 127 = 38.1)
        assertEquals(-127, b.get());
        assertEquals(32, b.get()); // round(31.75)
        assertEquals("an all-zero token gets scale 1", 1f, b.getFloat(), 0f);
        assertEquals(0, b.get());
        assertEquals(0, b.get());
        assertEquals(0, b.get());
        assertFalse(b.hasRemaining());
        float[][] back = VectorEncoding.INT8.decode(new BytesRef(b.array())).floats();
        assertArrayEquals(new float[] { 38f / 127f, -1f, 32f / 127f }, back[0], 1e-7f);
        assertArrayEquals(new float[3], back[1], 0f);
    }

    public void testBitKeepsSignsOnly() {
        for (int run = 0; run < 20; run++) {
            int dims = randomFrom(1, 7, 8, 9, 63, 64, 65, 128, randomIntBetween(1, 500));
            float[][] m = randomMatrix(randomIntBetween(1, 30), dims);
            byte[] bytes = VectorEncoding.BIT.encode(m, dims);
            MultiVector decoded = VectorEncoding.BIT.decode(offsetCopy(bytes));
            assertTrue(decoded.isBits());
            assertEquals(dims, decoded.dims());
            assertEquals(m.length, decoded.size());
            long[][] bits = decoded.bits();
            assertArrayEquals("decode matches binarize of the input", VectorEncoding.binarize(m), bits);
            for (int t = 0; t < m.length; t++) {
                assertEquals((dims + 63) / 64, bits[t].length);
                for (int d = 0; d < 64 * bits[t].length; d++) {
                    boolean set = (bits[t][d >> 6] >>> (d & 63) & 1L) == 1L;
                    boolean want = d < dims && m[t][d] > 0f; // zero and negative -> 0; padding bits stay 0
                    assertEquals("token " + t + " bit " + d, want, set);
                }
            }
            expectThrows(IllegalStateException.class, decoded::floats);
        }
    }

    public void testBitLayout() {
        // bit d of a token is bit (d % 8) of byte (d / 8), after the int header
        float[] v = new float[10];
        v[0] = 1f;
        v[3] = 0.5f;
        v[8] = 2f;
        v[9] = -1f;
        byte[] bytes = VectorEncoding.BIT.encode(new float[][] { v }, 10);
        assertEquals(6, bytes.length);
        assertEquals(0b0000_1001, bytes[4]);
        assertEquals(0b0000_0001, bytes[5]);
    }

    public void testEncodeRejectsBadMatrices() {
        for (VectorEncoding e : VectorEncoding.values()) {
            IllegalArgumentException ex = expectThrows(IllegalArgumentException.class, () -> e.encode(new float[0][], 3));
            assertEquals("a multi-vector needs at least one token vector", ex.getMessage());
            ex = expectThrows(IllegalArgumentException.class, () -> e.encode(new float[][] { { 1, 2, 3 }, { 1, 2 } }, 3));
            assertEquals("token vector [1] has dimension [2], expected [3]", ex.getMessage());
            ex = expectThrows(IllegalArgumentException.class, () -> e.encode(new float[][] { { 1, 2, 3 } }, 4));
            assertEquals("token vector [0] has dimension [3], expected [4]", ex.getMessage());
            ex = expectThrows(IllegalArgumentException.class, () -> e.encode(new float[][] { { 1, Float.NaN } }, 2));
            assertEquals("token vector [0] has a non-finite component [NaN]", ex.getMessage());
            ex = expectThrows(IllegalArgumentException.class, () -> e.encode(new float[][] { { 1, 1 }, { Float.NEGATIVE_INFINITY, 0 } }, 2));
            assertEquals("token vector [1] has a non-finite component [-Infinity]", ex.getMessage());
        }
    }

    public void testFloat16RejectsComponentsOutsideItsRange() {
        // 65504 is the largest half; from 65520 up a component would silently become Infinity and every score NaN
        float[][] ok = { { 65504f, -65519f, 1f } };
        assertArrayEquals(new float[] { 65504f, -65504f, 1f }, VectorEncoding.FLOAT16.decode(new BytesRef(VectorEncoding.FLOAT16.encode(ok, 3))).floats()[0], 0f);
        IllegalArgumentException e = expectThrows(
            IllegalArgumentException.class,
            () -> VectorEncoding.FLOAT16.encode(new float[][] { { 1f, 2f }, { 3f, -70000f } }, 2)
        );
        assertEquals("token vector [1] has a component [-70000.0] outside the float16 range [-65504, 65504]", e.getMessage());
        // the other encodings take it
        for (VectorEncoding other : new VectorEncoding[] { VectorEncoding.FLOAT, VectorEncoding.INT8, VectorEncoding.BIT }) {
            other.encode(new float[][] { { 3f, -70000f } }, 2);
        }
    }

    public void testDecodeRejectsPayloadsOfAnotherEncoding() {
        byte[] floats = VectorEncoding.FLOAT.encode(new float[][] { { 1, 2, 3 } }, 3); // 16 bytes
        IllegalArgumentException e = expectThrows(IllegalArgumentException.class, () -> VectorEncoding.INT8.decode(new BytesRef(floats)));
        assertEquals("stored multi-vector of 16 bytes does not match encoding [int8] with dimension 3", e.getMessage());
        byte[] zeroDims = new byte[8];
        e = expectThrows(IllegalArgumentException.class, () -> VectorEncoding.FLOAT.decode(new BytesRef(zeroDims)));
        assertEquals("stored multi-vector of 8 bytes does not match encoding [float] with dimension 0", e.getMessage());
        byte[] halves = VectorEncoding.FLOAT16.encode(new float[][] { { 1, 2, 3 } }, 3); // 10 bytes
        e = expectThrows(IllegalArgumentException.class, () -> VectorEncoding.FLOAT.decode(new BytesRef(halves)));
        assertEquals("stored multi-vector of 10 bytes does not match encoding [float] with dimension 3", e.getMessage());
    }

    public void testMultiVectorValidation() {
        IllegalArgumentException e = expectThrows(IllegalArgumentException.class, () -> MultiVector.ofFloats(new float[0][]));
        assertEquals("a multi-vector needs at least one token vector", e.getMessage());
        e = expectThrows(IllegalArgumentException.class, () -> MultiVector.ofFloats(new float[][] { { 1, 2 }, { 1 } }));
        assertEquals("token vectors differ in dimension: 2 != 1", e.getMessage());
        MultiVector floats = MultiVector.ofFloats(new float[][] { { 1, 2 } });
        assertEquals(2, floats.dims());
        IllegalStateException s = expectThrows(IllegalStateException.class, floats::bits);
        assertEquals("float multi-vector has no bit tokens", s.getMessage());
        s = expectThrows(IllegalStateException.class, () -> MultiVector.ofBits(new long[][] { { 1L } }, 3).floats());
        assertEquals("bit-encoded multi-vector has no float tokens", s.getMessage());
    }

    public void testDecodedFloatRowsAreIndependent() {
        // the float decoder reads through a view buffer; make sure each row gets its own slice
        float[][] m = { { 1, 2 }, { 3, 4 }, { 5, 6 } };
        float[][] back = VectorEncoding.FLOAT.decode(new BytesRef(VectorEncoding.FLOAT.encode(m, 2))).floats();
        assertEquals(Arrays.deepToString(m), Arrays.deepToString(back));
    }
}
