/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.model;

import ai.djl.huggingface.tokenizers.Encoding;

import org.opensearch.test.OpenSearchTestCase;
import org.junit.AfterClass;
import org.junit.BeforeClass;

import java.io.IOException;
import java.util.List;
import java.util.Map;

import io.neuralrescore.model.onnx.PaddedBatch;
import io.neuralrescore.testing.TestModels;

/**
 * ColBERT input preparation with the real MiniLM/BERT tokenizer (the one {@code tiny-colbert} ships): marker after
 * {@code [CLS]}, {@code [MASK]} query augmentation, truncation that leaves room for the marker, and the punctuation
 * skiplist, checked against the ids and kept flags of {@code models/test/tiny-colbert/expected.tsv}, which
 * {@code models/tools/colbert_encoding.py} (the conventions of models/MANIFEST.md) wrote.
 */
public class TokenInputsTests extends OpenSearchTestCase {
    private static final long CLS = 101;
    private static final long SEP = 102;
    private static final long MASK = 103;
    private static final long Q_MARKER = 1; // [unused0]
    private static final long D_MARKER = 2; // [unused1]

    private static TextTokenizer tokenizer;

    @BeforeClass
    public static void loadTokenizer() throws IOException {
        tokenizer = TextTokenizer.load(TestModels.testModels().resolve("tiny-colbert").resolve("tokenizer.json"), 64);
    }

    @AfterClass
    public static void closeTokenizer() {
        if (tokenizer != null) {
            tokenizer.close();
            tokenizer = null;
        }
    }

    private static TokenInputs.Prepared query(String text, int maxLength) {
        Encoding e = tokenizer.encodeRaw(List.of(text), maxLength - 1, true)[0];
        return TokenInputs.prepare(e, Q_MARKER, "[unused0]", maxLength, MASK, false);
    }

    private static TokenInputs.Prepared document(String text, int maxLength) {
        Encoding e = tokenizer.encodeRaw(List.of(text), maxLength - 1, true)[0];
        return TokenInputs.prepare(e, D_MARKER, "[unused1]", 0, -1, true);
    }

    public void testVocabularyIdsOfSpecialTokens() {
        assertEquals(MASK, tokenizer.tokenId("[MASK]"));
        assertEquals(CLS, tokenizer.tokenId("[CLS]"));
        // ColBERT's default markers are plain vocabulary entries, not added tokens
        assertEquals(Q_MARKER, tokenizer.tokenId("[unused0]"));
        assertEquals(D_MARKER, tokenizer.tokenId("[unused1]"));
        assertEquals(-1, tokenizer.tokenId("two words"));
    }

    public void testMatchesReferenceEncoding() throws IOException {
        List<Map<String, String>> rows = TestModels.expected("tiny-colbert");
        assertFalse(rows.isEmpty());
        for (Map<String, String> row : rows) {
            TokenInputs.Prepared q = query(row.get("query"), 32);
            assertArrayEquals("query ids of [" + row.get("query") + "]", TestModels.longs(row.get("query_ids")), q.input().ids());
            assertEquals("every query position is scored, [MASK]s included", q.input().length(), q.kept());
            long[] mask = PaddedBatch.of(new Encoded[] { q.input() }, new int[] { 0 }).mask();
            assertArrayEquals("attention mask: 0 on the [MASK] augmentation", TestModels.longs(row.get("query_attention_mask")), mask);

            TokenInputs.Prepared d = document(row.get("document"), 64);
            assertArrayEquals("document ids of [" + row.get("document") + "]", TestModels.longs(row.get("document_ids")), d.input().ids());
            long[] kept = TestModels.longs(row.get("document_kept"));
            assertEquals(kept.length, d.keep().length);
            for (int i = 0; i < kept.length; i++) {
                assertEquals("kept flag " + i + " of [" + row.get("document") + "]", kept[i] == 1, d.keep()[i]);
            }
            for (long type : d.input().typeIds()) {
                assertEquals(0L, type);
            }
        }
    }

    public void testQueryMarkerAndAugmentation() {
        TokenInputs.Prepared q = query("how do vaccines work", 32);
        long[] ids = q.input().ids();
        assertEquals(32, ids.length);
        assertEquals(CLS, ids[0]);
        assertEquals(Q_MARKER, ids[1]);
        assertEquals("[CLS]", q.tokens()[0]);
        assertEquals("[unused0]", q.tokens()[1]);
        assertEquals("vaccines", q.tokens()[4]);
        assertEquals(SEP, ids[6]);
        assertEquals("attended up to [SEP]", 7, q.input().attended());
        for (int i = 7; i < 32; i++) {
            assertEquals(MASK, ids[i]);
            assertEquals("[MASK]", q.tokens()[i]);
        }
    }

    public void testLongQueryIsTruncatedToRoomForTheMarker() {
        String text = "word ".repeat(100);
        TokenInputs.Prepared q = query(text, 32);
        long[] ids = q.input().ids();
        assertEquals(32, ids.length);
        assertEquals(Q_MARKER, ids[1]);
        assertEquals("the tokenizer's [SEP] survives truncation", SEP, ids[31]);
        for (long id : ids) {
            assertNotEquals("no room left for [MASK]", MASK, id);
        }
        assertEquals(32, q.input().attended());
    }

    public void testPunctuationSkiplist() {
        TokenInputs.Prepared d = document("Hello, world! (e.g. a-b) ##x", 64);
        String[] tokens = d.tokens();
        for (int i = 0; i < tokens.length; i++) {
            boolean single = tokens[i].length() == 1 && "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~".contains(tokens[i]);
            assertEquals(tokens[i], single == false, d.keep()[i]);
        }
        assertTrue("specials and the marker are kept", d.keep()[0] && d.keep()[1] && d.keep()[tokens.length - 1]);
        assertEquals("[unused1]", tokens[1]);
        // without the skiplist every position is kept; without a marker nothing is inserted
        Encoding e = tokenizer.encodeRaw(List.of("Hello, world!"), 63, true)[0];
        TokenInputs.Prepared plain = TokenInputs.prepare(e, -1, null, 0, -1, false);
        assertArrayEquals(e.getIds(), plain.input().ids());
        assertEquals(e.getIds().length, plain.kept());
        assertEquals(e.getIds().length, plain.input().attended());
        expectThrows(IllegalArgumentException.class, () -> new Encoded(new long[2], new long[2], 3));
        assertTrue(TokenInputs.isPunctuation("."));
        assertFalse(TokenInputs.isPunctuation("##."));
        assertFalse(TokenInputs.isPunctuation("a"));
        assertFalse(TokenInputs.isPunctuation(null));
    }
}
