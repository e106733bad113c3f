/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.mapper;

import org.apache.lucene.index.DocValuesType;
import org.apache.lucene.index.IndexableField;
import org.apache.lucene.util.BytesRef;
import org.opensearch.common.xcontent.XContentHelper;
import org.opensearch.common.xcontent.XContentType;
import org.opensearch.core.common.Strings;
import org.opensearch.core.xcontent.XContentBuilder;
import org.opensearch.index.mapper.DocumentMapper;
import org.opensearch.index.mapper.MappedFieldType;
import org.opensearch.index.mapper.MapperParsingException;
import org.opensearch.index.mapper.MapperService;
import org.opensearch.index.mapper.MapperServiceTestCase;
import org.opensearch.index.mapper.ParsedDocument;
import org.opensearch.index.query.QueryShardException;
import org.opensearch.plugins.Plugin;

import java.io.IOException;
import java.util.Collection;
import java.util.List;
import java.util.Map;

import io.neuralrescore.plugin.NeuralRescorePlugin;
import io.neuralrescore.scoring.MultiVector;
import io.neuralrescore.scoring.VectorEncoding;

/**
 * The {@code multi_vector} field through OpenSearch's real mapping and document parsing: parameters, what a
 * document stores for each encoding, and the exact errors of bad documents and mappings.
 */
public class MultiVectorFieldMapperTests extends MapperServiceTestCase {

    @Override
    protected Collection<? extends Plugin> getPlugins() {
        return List.of(new NeuralRescorePlugin());
    }

    private DocumentMapper mapper(int dims, String encoding, String model) throws IOException {
        return createDocumentMapper(fieldMapping(b -> {
            b.field("type", "multi_vector").field("dims", dims);
            if (encoding != null) {
                b.field("encoding", encoding);
            }
            if (model != null) {
                b.field("model", model);
            }
        }));
    }

    private static float[][] randomMatrix(int tokens, int dims) {
        float[][] m = new float[tokens][dims];
        for (float[] row : m) {
            for (int d = 0; d < dims; d++) {
                row[d] = randomFloat() * 2 - 1;
            }
        }
        return m;
    }

    private static BytesRef stored(ParsedDocument doc) {
        IndexableField[] fields = doc.rootDoc().getFields("field");
        assertEquals("one doc-values field per document", 1, fields.length);
        assertEquals(DocValuesType.BINARY, fields[0].fieldType().docValuesType());
        return fields[0].binaryValue();
    }

    public void testEveryEncodingStoresWhatItEncodes() throws IOException {
        for (VectorEncoding encoding : VectorEncoding.values()) {
            int dims = randomIntBetween(1, 40);
            MapperService service = createMapperService(
                fieldMapping(b -> b.field("type", "multi_vector").field("dims", dims).field("encoding", encoding.jsonName()))
            );
            DocumentMapper mapper = service.documentMapper();
            MultiVectorFieldMapper.MultiVectorFieldType type = (MultiVectorFieldMapper.MultiVectorFieldType) service.fieldType("field");
            assertEquals(encoding, type.encoding());
            assertEquals(dims, type.dims());
            assertNull(type.model());
            float[][] m = randomMatrix(randomIntBetween(1, 10), dims);
            ParsedDocument doc = mapper.parse(source(b -> {
                b.startArray("field");
                for (float[] row : m) {
                    b.value(row);
                }
                b.endArray();
            }));
            BytesRef bytes = stored(doc);
            assertEquals(encoding.jsonName(), new BytesRef(encoding.encode(m, dims)), bytes);
            MultiVector back = encoding.decode(bytes);
            assertEquals(m.length, back.size());
        }
    }

    public void testDefaultsAndMappingXContent() throws IOException {
        MapperService service = createMapperService(fieldMapping(b -> b.field("type", "multi_vector").field("dims", 3)));
        MultiVectorFieldMapper.MultiVectorFieldType type = (MultiVectorFieldMapper.MultiVectorFieldType) service.fieldType("field");
        assertEquals("float is the default encoding", VectorEncoding.FLOAT, type.encoding());
        assertEquals("multi_vector", type.typeName());
        assertFalse("not searchable", type.isSearchable());
        assertTrue(type.hasDocValues());

        MapperService full = createMapperService(
            fieldMapping(b -> b.field("type", "multi_vector").field("dims", 384).field("encoding", "int8").field("model", "all-minilm-l6-v2"))
        );
        String json = Strings.toString(XContentType.JSON, full.documentMapper().mapping());
        Map<String, Object> field = fieldOf(json);
        assertEquals(Map.of("type", "multi_vector", "dims", 384, "encoding", "int8", "model", "all-minilm-l6-v2"), field);
        // the serialized mapping parses back to the same field
        MapperService again = createMapperService(fieldMapping(b -> {
            for (Map.Entry<String, Object> e : field.entrySet()) {
                b.field(e.getKey(), e.getValue());
            }
        }));
        assertEquals(json, Strings.toString(XContentType.JSON, again.documentMapper().mapping()));
        MultiVectorFieldMapper.MultiVectorFieldType t = (MultiVectorFieldMapper.MultiVectorFieldType) again.fieldType("field");
        assertEquals("all-minilm-l6-v2", t.model());
        assertEquals(VectorEncoding.INT8, t.encoding());
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> fieldOf(String mappingJson) {
        Map<String, Object> map = XContentHelper.convertToMap(XContentType.JSON.xContent(), mappingJson, false);
        Map<String, Object> doc = (Map<String, Object>) map.get("_doc");
        return (Map<String, Object>) ((Map<String, Object>) doc.get("properties")).get("field");
    }

    public void testSingleVectorIsOneToken() throws IOException {
        DocumentMapper mapper = mapper(3, "float", null);
        ParsedDocument doc = mapper.parse(source(b -> b.array("field", 1f, -2f, 0.5f)));
        assertArrayEquals(new float[][] { { 1f, -2f, 0.5f } }, VectorEncoding.FLOAT.decode(stored(doc)).floats());
    }

    public void testBase64StoresTheSameAsNumbers() throws IOException {
        String encoding = randomFrom("float", "float16", "int8", "bit");
        int dims = randomIntBetween(1, 40);
        DocumentMapper mapper = mapper(dims, encoding, null);
        float[][] m = randomMatrix(randomIntBetween(1, 10), dims);
        ParsedDocument numbers = mapper.parse(source(b -> {
            b.startArray("field");
            for (float[] row : m) {
                b.value(row);
            }
            b.endArray();
        }));
        ParsedDocument base64 = mapper.parse(source(b -> b.field("field", MultiVectorValues.encodeBase64(m))));
        assertEquals(encoding, stored(numbers), stored(base64));
        assertEquals("an empty string is no value", 0, mapper.parse(source("{\"field\": \"\"}")).rootDoc().getFields("field").length);
    }

    public void testIntegersAreNumbersToo() throws IOException {
        DocumentMapper mapper = mapper(2, "float", null);
        ParsedDocument doc = mapper.parse(source("{\"field\": [[1, 2], [3.5, -4]]}"));
        assertArrayEquals(new float[][] { { 1f, 2f }, { 3.5f, -4f } }, VectorEncoding.FLOAT.decode(stored(doc)).floats());
    }

    public void testEmptyAndNullStoreNothing() throws IOException {
        DocumentMapper mapper = mapper(2, randomFrom("float", "float16", "int8", "bit"), null);
        assertEquals(0, mapper.parse(source("{\"field\": []}")).rootDoc().getFields("field").length);
        assertEquals(0, mapper.parse(source("{\"field\": null}")).rootDoc().getFields("field").length);
        assertEquals(0, mapper.parse(source("{\"other\": 1}")).rootDoc().getFields("field").length);
    }

    private String parseError(DocumentMapper mapper, String json) {
        MapperParsingException e = expectThrows(MapperParsingException.class, () -> mapper.parse(source(json)));
        // OpenSearch wraps the mapper's own error in "failed to parse field [...]"; the reason is the cause
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getMessage();
    }

    public void testBadDocumentsAreRejectedWithReasons() throws IOException {
        DocumentMapper mapper = mapper(3, randomFrom("float", "float16", "int8", "bit"), null);
        assertEquals(
            "field [field]: token vector [1] has dimension [2], the mapping says [3]",
            parseError(mapper, "{\"field\": [[1, 2, 3], [1, 2]]}")
        );
        assertEquals(
            "field [field]: token vector [0] has dimension [4], the mapping says [3]",
            parseError(mapper, "{\"field\": [1, 2, 3, 4]}")
        );
        assertEquals(
            "field [field]: token vector [0] has a non-numeric value [a]",
            parseError(mapper, "{\"field\": [[1, \"a\", 3]]}")
        );
        assertEquals(
            "field [field]: token vector [1] must be an array of numbers, got [x]",
            parseError(mapper, "{\"field\": [[1, 2, 3], \"x\"]}")
        );
        assertEquals(
            "field [field]: token vector [0] has a non-numeric value [[1, 2]]",
            parseError(mapper, "{\"field\": [[[1, 2], 2, 3]]}")
        );
        assertEquals(
            "field [field] of type [multi_vector] takes an array of vectors or a base64 string, got [VALUE_NUMBER]",
            parseError(mapper, "{\"field\": 5}")
        );
        assertEquals(
            "field [field]: a string value must be base64 of big-endian float32 token vectors: Illegal base64 character 5b",
            parseError(mapper, "{\"field\": \"[[1, 2, 3]]\"}")
        );
        assertEquals(
            "field [field]: the base64 value holds [8] bytes, not a whole number of token vectors of [3] float32 values ([12] bytes each)",
            parseError(mapper, "{\"field\": \"" + MultiVectorValues.encodeBase64(new float[][] { { 1f, 2f } }) + "\"}")
        );
        assertEquals(
            "field [field] of type [multi_vector] takes an array of vectors or a base64 string, got [START_OBJECT]",
            parseError(mapper, "{\"field\": {\"vectors\": [[1, 2, 3]]}}")
        );
    }

    public void testFloat16RangeIsCheckedAtIndexTime() throws IOException {
        DocumentMapper mapper = mapper(2, "float16", null);
        assertEquals(
            "field [field]: token vector [0] has a component [100000.0] outside the float16 range [-65504, 65504]",
            parseError(mapper, "{\"field\": [[1, 100000]]}")
        );
        // float takes it
        assertEquals(1, mapper(2, "float", null).parse(source("{\"field\": [[1, 100000]]}")).rootDoc().getFields("field").length);
    }

    public void testBadMappingsAreRejectedWithReasons() {
        MapperParsingException e = expectThrows(
            MapperParsingException.class,
            () -> createMapperService(fieldMapping(b -> b.field("type", "multi_vector")))
        );
        assertThat(rootMessage(e), org.hamcrest.Matchers.containsString("[dims] is required for field [field] of type [multi_vector]"));
        e = expectThrows(
            MapperParsingException.class,
            () -> createMapperService(fieldMapping(b -> b.field("type", "multi_vector").field("dims", 0)))
        );
        assertThat(rootMessage(e), org.hamcrest.Matchers.containsString("[dims] must be between 1 and 4096, got [0]"));
        e = expectThrows(
            MapperParsingException.class,
            () -> createMapperService(fieldMapping(b -> b.field("type", "multi_vector").field("dims", 4097)))
        );
        assertThat(rootMessage(e), org.hamcrest.Matchers.containsString("[dims] must be between 1 and 4096, got [4097]"));
        e = expectThrows(
            MapperParsingException.class,
            () -> createMapperService(fieldMapping(b -> b.field("type", "multi_vector").field("dims", 4).field("encoding", "int4")))
        );
        assertThat(rootMessage(e), org.hamcrest.Matchers.containsString("Unknown value [int4] for field [encoding] - accepted values are [float, float16, int8, bit]"));
        e = expectThrows(
            MapperParsingException.class,
            () -> createMapperService(fieldMapping(b -> b.field("type", "multi_vector").field("dims", 4).field("space", "cosine")))
        );
        assertThat(rootMessage(e), org.hamcrest.Matchers.containsString("unknown parameter [space] on mapper [field] of type [multi_vector]"));
    }

    private static String rootMessage(Throwable e) {
        StringBuilder sb = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            sb.append(t.getMessage()).append(" | ");
        }
        return sb.toString();
    }

    public void testParametersCannotBeUpdated() throws IOException {
        MapperService service = createMapperService(fieldMapping(b -> b.field("type", "multi_vector").field("dims", 4).field("encoding", "int8")));
        for (XContentBuilder update : List.of(
            fieldMapping(b -> b.field("type", "multi_vector").field("dims", 5).field("encoding", "int8")),
            fieldMapping(b -> b.field("type", "multi_vector").field("dims", 4).field("encoding", "bit")),
            fieldMapping(b -> b.field("type", "multi_vector").field("dims", 4).field("encoding", "int8").field("model", "m"))
        )) {
            IllegalArgumentException e = expectThrows(IllegalArgumentException.class, () -> merge(service, update));
            assertThat(e.getMessage(), org.hamcrest.Matchers.containsString("Cannot update parameter"));
        }
    }

    public void testNotSearchable() throws IOException {
        MapperService service = createMapperService(fieldMapping(b -> b.field("type", "multi_vector").field("dims", 4)));
        MappedFieldType type = service.fieldType("field");
        QueryShardException e = expectThrows(QueryShardException.class, () -> type.termQuery("x", createQueryShardContext(service)));
        assertThat(
            e.getMessage(),
            org.hamcrest.Matchers.containsString(
                "field [field] of type [multi_vector] is not searchable; use the late_interaction rescorer or query"
            )
        );
    }
}
