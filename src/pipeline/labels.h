/* labels.h — labels on a topic of their own, joined to their scored records by key (labels.c). */
#ifndef RTML_PIPELINE_LABELS_H
#define RTML_PIPELINE_LABELS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pipeline/core.h"

/* label.topic (labels.c). open: the join store and the label decoder (0, or -1 with a reason); free.
 * feature_key: a scored record's join key from its decoded values or Kafka key (0: it has none). label: one
 * label record — matched to its pending record it is evaluated and learned; re-delivered ones (origin->learned)
 * are skipped; a record that cannot be read is rejected (counted, reason returned, detail filled). joined:
 * a scored record of the batch goes into the store, or is learned at once when its label came first.
 * save/load: the store as the checkpoint's "joins" section. report: the report's "labels" member. */
int rtml_pipeline_labels_open(rtml_pipeline *p, char *err, size_t errlen);
void rtml_pipeline_labels_free(rtml_pipeline *p);
int rtml_pipeline_feature_key(rtml_pipeline *p, const rtml_origin *origin, uint64_t *key);
rtml_reject rtml_pipeline_label(rtml_pipeline *p, const char *doc, size_t len, const rtml_origin *origin,
                                char *detail, size_t detail_len);
void rtml_pipeline_join(rtml_pipeline *p, const rtml_row *row, const double *scores, const rtml_batch_item *item);
void rtml_pipeline_joins_save(const rtml_pipeline *p, rtml_writer *w);
int rtml_pipeline_joins_load(rtml_pipeline *p, rtml_reader *r, char *err, size_t errlen);
void rtml_pipeline_labels_report(const rtml_pipeline *p, rtml_buf *out);

#endif
