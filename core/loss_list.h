/* loss_list: every loss lossd serves, in catalogue order, one LOSS(family, name) line each.
 * This is the only place a loss is named. From it come the registry (core/loss_registry.c),
 * the build (core/losses/<family>/<name>.c and tests/core/losses/<family>/test_<name>.c, see
 * core/losses/losses.cmake), and the checks of the registry walk test (fixture, openapi enum,
 * README catalogue line). Each line needs `const loss_desc loss_desc_<name>` in its file, with
 * `.family` equal to <family>. docs/adding-a-loss.md has the whole recipe. */

LOSS(regression, mse)
LOSS(regression, mae)
LOSS(regression, mbe)
LOSS(regression, huber)
LOSS(regression, smooth_l1)
LOSS(regression, log_cosh)
LOSS(regression, mape)
LOSS(regression, msle)
LOSS(regression, quantile)
LOSS(regression, poisson_nll)
LOSS(regression, gaussian_nll)

LOSS(classification, bce)
LOSS(classification, hinge)
LOSS(classification, focal)
LOSS(classification, cross_entropy)
LOSS(classification, nll)
LOSS(classification, bce_with_logits)
LOSS(classification, sigmoid_focal)
LOSS(classification, squared_hinge)
LOSS(classification, soft_margin)
LOSS(classification, kl_div)
LOSS(classification, multi_margin)
LOSS(classification, multilabel_soft_margin)
LOSS(classification, categorical_hinge)
LOSS(classification, multilabel_margin)

LOSS(embedding, contrastive)
LOSS(embedding, triplet_margin)
LOSS(embedding, margin_ranking)
LOSS(embedding, hinge_embedding)
LOSS(embedding, cosine_embedding)
LOSS(embedding, ntxent)

LOSS(detection, box_iou)
LOSS(detection, giou)
LOSS(detection, diou)
LOSS(detection, ciou)

LOSS(segmentation, dice)
LOSS(segmentation, mask_iou)
LOSS(segmentation, tversky)

LOSS(gan, gan_discriminator)
LOSS(gan, gan_generator)
LOSS(gan, wgan_critic)
LOSS(gan, wgan_generator)
LOSS(gan, lsgan_discriminator)
LOSS(gan, lsgan_generator)

LOSS(sequence, ctc)
