# A small vision Transformer space: the AutoFormer-T space (Chen, Peng, Fu &
# Ling, "AutoFormer: Searching Transformers for Visual Recognition", ICCV
# 2021, Table 1; official code: microsoft/Cream, folder AutoFormer). It
# shows nasl outside CNN cells: tokens [S, D], attention and depth choices.
#
# The network is a ViT (Dosovitskiy et al., ICLR 2021): 16x16 patches of a
# 224x224 image embedded to D features (196 tokens), a cls token, a learned
# position table (197 x D), `depth` pre-norm Transformer blocks, a final
# layer norm and a linear classifier on the cls token. As in AutoFormer, the
# embedding width D is one choice for the whole network; each block chooses
# its number of heads and its MLP ratio, and each head has 64 features, so a
# block's queries, keys and values are heads * 64 wide whatever D is.
#
# Choices (AutoFormer-T):
#   embed_dim             192, 216, 240             (once)
#   depth                 12, 13, 14
#   heads, mlp_ratio      3 or 4, 3.5 or 4          (per block)
# Blocks beyond the chosen depth have no choices (they do not exist).
#
# Size. (2 * 2)^d block settings at depth d, so 3 * (4^12 + 4^13 + 4^14) =
# 63 * 4^12 = 1,056,964,608 architectures.
#
# Departures from the official supernet: no relative position encodings
# (AutoFormer's optional `relative_position`), no dropout or drop path; the
# q/k/v projection has a bias.
#
# Parameters, with D, per block heads h and hidden units m = int(D * ratio):
# patch embedding 3*16*16*D + D, cls token D, positions 197*D, per block
# 4D (two layer norms) + D*3*64h + 3*64h + 64h*D + D (attention) + D*m + m
# + m*D + D (MLP), final norm 2D, classifier D*1000 + 1000. At D = 192,
# depth 12, every block h = 3 and ratio 3.5: 5,273,896.

param image = 224
param patch = 16
param dims = [192, 216, 240]
param depths = [12, 13, 14]
param heads = [3, 4]
param ratios = [3.5, 4]
param head_dim = 64
param classes = 1000
input x: [3, image, image]

network {
    dim = choice(dims) as embed_dim
    t = x >> patch_embed(dim, patch=patch) >> cls_token >> pos_embed
    depth = choice(depths) as depth
    repeat depth as i {
        t = t >> transformer_block(heads=choice(heads) as heads, mlp_ratio=choice(ratios) as mlp_ratio,
                                   head_dim=head_dim)
    }
    return t >> layer_norm >> token_pool(mode="cls") >> linear(classes)
}
